package pipeline

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listmonkBounce is a DSN whose returned original carries listmonk's
// headers (subscriber and campaign value given).
func listmonkBounce(sub, camp string) string {
	return `From: MAILER-DAEMON@mx.example.net
To: bounce@list.example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 02 Mar 2026 10:30:00 +0000
Message-ID: <b1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--b
Content-Type: text/rfc822-headers

From: News <news@list.example.org>
To: gone@example.net
Subject: March
Message-ID: <campaign-1@list.example.org>
X-Listmonk-Subscriber: ` + sub + `
X-Listmonk-Campaign: ` + camp + `

--b--
`
}

func TestListIDsFromTheOriginal(t *testing.T) {
	for _, tc := range []struct {
		name, sub, camp, wantSub, wantCamp string
	}{
		{"listmonk's UUIDs", "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "0E9A8B7C-6D5E-4F3A-9B2C-1D0E9F8A7B6C",
			"5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "0e9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c"},
		{"not UUIDs: dropped", "1 OR 1=1", "../../etc/passwd", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProcessor(nil)
			res, err := p.Process(context.Background(), &mailsource.Message{Name: "t",
				Body: strings.NewReader(listmonkBounce(tc.sub, tc.camp))})
			require.NoError(t, err)
			require.Len(t, res.Message.Events, 1)
			// Recorded, and handed to a push target with the event.
			ctx := context.Background()
			db, err := suppress.Open(ctx, filepath.Join(t.TempDir(), "state.db"), nil)
			require.NoError(t, err)
			defer db.Close()
			require.NoError(t, db.SetOutbox([]suppress.OutboxTarget{{Name: "t"}}))
			_, err = db.Record(ctx, &res.Message)
			require.NoError(t, err)
			due, err := db.Due(ctx, "t", time.Now(), 10)
			require.NoError(t, err)
			require.Len(t, due, 1)
			assert.Equal(t, tc.wantSub, due[0].Event.ListSubscriber)
			assert.Equal(t, tc.wantCamp, due[0].Event.ListCampaign)
		})
	}
}
