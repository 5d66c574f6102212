package classify

import "testing"

// TestKindsMS classifies the notices of Microsoft's and the other Windows
// mail servers whose reason is in the words of their own templates, each
// in a message written from the product's template.
func TestKindsMS(t *testing.T) {
	checkThroughParser(t, []parserCase{{
		// Exchange Online (Microsoft 365) writes "x wasn't found at
		// example.com." under "Your message to x couldn't be delivered.",
		// and Status code 5.1.10, its RecipientNotFound ("Fix email
		// delivery issues for error code 550 5.1.10 in Exchange Online",
		// Microsoft Learn): the same code says null MX elsewhere (RFC 7505).
		name: "Exchange Online: x wasn't found at the domain",
		msg: kindNotice("Microsoft Outlook <postmaster@corp.example.com>", "Undeliverable: news", "",
			"Your message to ann@example.com couldn't be delivered.\nann wasn't found at example.com.\n\n"+
				"How to Fix It\nThe address may be misspelled or may not exist.\n\n"+
				"More Info for Email Admins\nStatus code: 550 5.1.10\n\n"+
				"Original Message Details\nCreated Date:\t12/3/2026 10:00:00 AM\nSender Address:\tnews@lists.example.org\n"+
				"Recipient Address:\tann@example.com\nSubject:\tnews\n"),
		recipient: "ann@example.com", want: ReasonUserUnknown,
	}, {
		// Exchange 2010 and later name a recipient of the organisation by
		// its display name alone in the user section: the words about it
		// are no one else's, whose reply is under "Diagnostic information
		// for administrators" ("DSNs and NDRs in Exchange Server",
		// Microsoft Learn).
		name: "Exchange 2010: another recipient's words above, the reply in the diagnostic",
		msg: kindNotice("Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@corp.example.com>", "Undeliverable: news", "",
			"Delivery has failed to these recipients or groups:\n\n"+
				"fay@example.net<mailto:fay@example.net>\nA problem occurred during the delivery of this message to this e-mail address.\n\n"+
				"Gus Smith\nThe e-mail account does not exist at the organization this message was sent to.\n\n"+
				"Diagnostic information for administrators:\n\nGenerating server: ex01.corp.example.com\n\n"+
				"fay@example.net\n#552 5.2.2 mailbox over quota ##\n\n"+
				"gus@corp.example.com\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"+
				"Original message headers:\n\nFrom: news@lists.example.org\nSubject: news\n"),
		recipient: "fay@example.net", want: ReasonMailboxFull, others: []string{"gus@corp.example.com"},
	}, {
		// hMailServer found no MX nor A record for the domain and gave up
		// after its retries (hmailserver/hmailserver,
		// source/Server/SMTP/ExternalDelivery.cpp _HandleNoRecipientServers;
		// "exists" is its spelling).
		name: "hMailServer: no mail servers for the recipient's address",
		msg: kindNotice("mailer-daemon@mail.corp.example.com", "Message undeliverable: news", "",
			"Your message did not reach some or all of the intended recipients.\n\n   Sent: Thu, 3 Dec 2026 10:00:00 +0000\n   Subject: news\n\n"+
				"The following recipient(s) could not be reached:\n\nbob@example.net\n   Error Type: SMTP\n"+
				"   Error Description: No mail servers appear to exists for the recipient's address.\n"+
				"   Additional information: Please check that you have not misspelled the recipient's email address.\n\n\nTried 3 time(s)\n\n\nhMailServer\n"),
		recipient: "bob@example.net", want: ReasonHostUnknown,
	}, {
		// Exchange 5.5's Internet Mail Service: no status code, its MTS
		// code and words only.
		name: "Exchange 5.5: the recipient name is not recognized",
		msg: kindNotice("System Administrator <postmaster@corp.example.com>", "Undeliverable: news", "",
			"Your message\n\n  To:      cal@corp.example.com\n  Subject: news\n  Sent:    Thu, 3 Dec 2026 10:00:00 +0000\n\n"+
				"did not reach the following recipient(s):\n\ncal@corp.example.com on Thu, 3 Dec 2026 10:00:00 +0000\n"+
				"    The recipient name is not recognized\n    MSEXCH:IMS:Corp:Site:EX55 0 (000C05A6) Unknown Recipient\n"),
		recipient: "cal@corp.example.com", want: ReasonUserUnknown,
	}, {
		// MailEnable: the domain has no registration ("Reason Code:
		// Invalid Domain Name", error 9003).
		name: "MailEnable: the domain does not appear to be registered",
		msg: kindNotice("\"Delivery Subsystem\" <POSTMASTER@mail.corp.example.com>", "Message Delivery Failure", "X-MEFilter: 1\n",
			"MailEnable: Message could not be delivered to some recipients.\nThe following recipient(s) could not be reached:\n\n"+
				"\tRecipient: [SMTP:dee@example.invalid]\n"+
				"\tReason: The message could not be delivered because the domain name (example.invalid) does not appear to be registered.\n\n"+
				"Reason Code: Invalid Domain Name\nError Number: 9003\n"),
		recipient: "dee@example.invalid", want: ReasonHostUnknown,
	}, {
		// SmarterMail: "Reason: The mailbox is full" (SmarterTools'
		// knowledge base, "Common email delivery errors").
		name: "SmarterMail: the mailbox is full",
		msg: kindNotice("System Administrator <postmaster@mail.corp.example.com>", "Undeliverable: news", "",
			"Could not deliver message to the following recipient(s):\n\nFailed Recipient: eve@corp.example.com\nReason: The mailbox is full\n"),
		recipient: "eve@corp.example.com", want: ReasonMailboxFull,
	}})
}
