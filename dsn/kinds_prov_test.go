package dsn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProviderKinds checks the notices of filtering gateways and big
// mailbox providers, each in a message written from the provider's
// documentation or a sample it published: the recipients found, and where
// their address was read.
func TestProviderKinds(t *testing.T) {
	const groupsHelp = "We're writing to let you know that the group you tried to contact (cats) may not exist, " +
		"or you may not have permission to post messages to the group. A few more details on why you weren't able to post:\n\n" +
		" * You might have spelled or formatted the group name incorrectly.\n" +
		" * The owner of the group may have removed this group.\n" +
		" * You may need to join the group before receiving permission to post.\n" +
		" * This group may not be open to posting.\n\n" +
		"If you have questions related to this or any other Google Group, visit the Help Center at https://groups.google.com/support/.\n\n" +
		"Thanks,\n\nGoogle Groups\n\n\n\n----- Original message -----\n\n"
	tests := []kindCase{{
		// Google Groups names the group only in X-Failed-Recipients; the
		// address after "Hello" is the sender's (samples published in
		// mej/nhc issue 7 and sisimai/p5-sisimai issue 376).
		name: "Google Groups: the group in X-Failed-Recipients, the sender after Hello",
		msg: withHeader("X-Failed-Recipients: cats@groups.example.net\r\n",
			notice("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)",
				"Hello bob@example.com,\n\n"+groupsHelp+returned("cats@groups.example.net"))),
		kind: KindBounce, recipients: []string{"cats@groups.example.net"}, pos: PositionXFailedRecipients,
	}, {
		// Chinese notices label the recipient with a full-width colon
		// ("收件人：x@y"); NetEase's help describes the notice (subject
		// 系统退信, from postmaster@163.com), QQ Mail's help
		// (qqmailbox.com/transceivers/169.html) its reasons.
		name: "NetEase: 收件人 with a full-width colon",
		msg: notice("Mail Delivery Subsystem <postmaster@163.example>", "系统退信",
			"抱歉，您的邮件被退回来了……\n\n原邮件信息：\n时　间： 2026-12-03 18:00:00\n主　题： news\n"+
				"收件人： ann@example.net\n\n退信原因：\n该用户不存在\n\n"+returned("ann@example.net")),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate,
	}, {
		name: "QQ Mail: 收件人 with a full-width colon, indented",
		msg: notice("<MAILER-DAEMON@qq.example>", "退信：news",
			"很抱歉您发送的邮件被退回，以下是该邮件的相关信息：\n\n被退回的邮件：\n  主题：news\n"+
				"  时间：2026年12月3日 18:00\n  收件人：ann@example.net\n  退信原因：收件人空间不足\n\n"+returned("ann@example.net")),
		kind: KindBounce, recipients: []string{"ann@example.net"}, pos: PositionTemplate,
	}}
	// Amazon SES's "Bounce notification without a DSN" (SES developer
	// guide, "Amazon SNS notification examples for Amazon SES"): the
	// recipients are bare, the bounce type and subtype say the rest.
	sesBounce := func(typ, sub string) string {
		return notice("AWS Notifications <no-reply@sns.amazonaws.com>", "AWS Notification Message",
			`{"notificationType":"Bounce","bounce":{"bounceType":"`+typ+`","bounceSubType":"`+sub+`",`+
				`"bouncedRecipients":[{"emailAddress":"ann@example.net"},{"emailAddress":"bob@example.net"}],`+
				`"timestamp":"2026-12-03T10:00:00.000Z","feedbackId":"0100-1","remoteMtaIp":"192.0.2.25"},`+
				`"mail":{"timestamp":"2026-12-03T09:59:00.000Z","messageId":"0100-2","source":"news@lists.example.org",`+
				`"destination":["ann@example.net","cyd@example.net","bob@example.net"]}}`)
	}
	tests = append(tests, []kindCase{{
		name: "Amazon SES: Permanent NoEmail without a DSN",
		msg:  sesBounce("Permanent", "NoEmail"),
		kind: KindDSN, recipients: []string{"ann@example.net", "bob@example.net"}, pos: PositionSES, status: "5.1.1",
	}, {
		name: "Amazon SES: Permanent General without a DSN is permanent, nothing more",
		msg:  sesBounce("Permanent", "General"),
		kind: KindDSN, recipients: []string{"ann@example.net", "bob@example.net"}, pos: PositionSES, status: "5.0.0",
	}, {
		name: "Amazon SES: Transient MailboxFull without a DSN",
		msg:  sesBounce("Transient", "MailboxFull"),
		kind: KindDSN, recipients: []string{"ann@example.net", "bob@example.net"}, pos: PositionSES, status: "4.2.2",
	}, {
		name: "Amazon SES: Undetermined says nothing",
		msg:  sesBounce("Undetermined", "Undetermined"),
		kind: KindDSN, recipients: []string{"ann@example.net", "bob@example.net"}, pos: PositionSES,
	}}...)
	checkKinds(t, tests)
	t.Run("Amazon SES: a DeliveryDelay event", func(t *testing.T) {
		// "Examples of event data that Amazon SES publishes to Amazon
		// SNS", DeliveryDelay record.
		msg := notice("AWS Notifications <no-reply@sns.amazonaws.com>", "AWS Notification Message",
			`{"eventType":"DeliveryDelay","mail":{"timestamp":"2026-12-03T09:15:40.641Z","source":"news@lists.example.org",`+
				`"messageId":"0100-3","destination":["ann@example.net"]},"deliveryDelay":{"timestamp":"2026-12-03T09:25:40.095Z",`+
				`"delayType":"TransientCommunicationFailure","expirationTime":"2026-12-03T10:25:40.914Z","delayedRecipients":`+
				`[{"emailAddress":"ann@example.net","status":"4.4.1","diagnosticCode":"smtp; 421 4.4.1 Unable to connect to remote host"}]}}`)
		rep, _ := Parse(strings.NewReader(msg), nil)
		require.Len(t, rep.Recipients, 1)
		r := rep.Recipients[0]
		assert.Equal(t, KindDSN, rep.Kind)
		assert.Equal(t, "ann@example.net", r.FinalRecipient)
		assert.Equal(t, PositionSES, r.Position)
		assert.Equal(t, ActionDelayed, r.Action)
		assert.Equal(t, "4.4.1", r.Status)
	})
	t.Run("Amazon SES: Undetermined sets no status", func(t *testing.T) {
		rep, _ := Parse(strings.NewReader(sesBounce("Undetermined", "Undetermined")), nil)
		require.NotEmpty(t, rep.Recipients)
		assert.Empty(t, rep.Recipients[0].Status)
		assert.Empty(t, string(rep.Recipients[0].Action))
	})
}
