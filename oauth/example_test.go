package oauth_test

import (
	"context"
	"log"
	"os"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/oauth"
)

// Microsoft 365 delegated access: obtain the refresh token once with the
// device authorization grant, then log in to IMAP with tokens that the
// Source refreshes and stores back in the file.
func Example() {
	const file = "/etc/bouncer/m365.json"
	creds := &oauth.Credentials{Provider: oauth.ProviderMicrosoft, Tenant: "contoso.onmicrosoft.com", ClientID: "00000000-0000-0000-0000-000000000000"}
	authorized, err := oauth.Authorize(context.Background(), creds, os.Stdout, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := oauth.WriteFile(file, authorized); err != nil {
		log.Fatal(err)
	}

	// Later, on every run:
	src, err := oauth.NewSource(file, nil)
	if err != nil {
		log.Fatal(err)
	}
	f, err := imapfetch.Dial(context.Background(), "imaps://bounce%40contoso.com@outlook.office365.com/INBOX", &imapfetch.Options{TokenSource: src})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
}
