package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bouncer-dev/bouncer/internal/demoimap"
)

// demoUser is the login of the demo mailbox.
const demoUser = demoimap.User

// demoReceived is the arrival time of the demo's messages.
var demoReceived = demoimap.Received

func TestDemo(t *testing.T) {
	samples := len(demoFiles(t))
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := runBouncer(t, "demo")
	if code != exitOK {
		t.Fatalf("demo = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	list := filepath.Join(dir, "demo-suppressions.csv")
	l := readList(t, list)
	for _, a := range []string{complaintAddr, userUnknownAddr} {
		if _, ok := l[a]; !ok {
			t.Errorf("demo-suppressions.csv lacks %s", a)
		}
	}
	for _, a := range []string{autoReplyAddr, notBounceAddr, deliveredAddr, policyAddr} {
		if _, ok := l[a]; ok {
			t.Errorf("demo-suppressions.csv lists %s", a)
		}
	}
	for _, want := range []string{
		"messages: " + strconv.Itoa(samples) + " read",
		"newly suppressed: " + strconv.Itoa(len(l)) + " addresses",
		"wrote " + list,
		"INBOX 0,",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// The state lives in a temporary folder: nothing else is left behind,
	// and a second demo starts clean.
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("demo left %q in the current folder, want demo-suppressions.csv only", names)
	}
	first, _ := os.ReadFile(list)
	code, stdout, _ = runBouncer(t, "demo")
	second, _ := os.ReadFile(list)
	if code != exitOK || !strings.Contains(stdout, "newly suppressed: "+strconv.Itoa(len(l))) || string(first) != string(second) {
		t.Errorf("second demo = %d, not the same list:\n%s", code, stdout)
	}
}

// TestRunPlaintext runs bouncer run against the demo's in-memory server,
// which offers no TLS: imap:// needs --insecure-plaintext.
func TestRunPlaintext(t *testing.T) {
	dir := t.TempDir()
	srv, err := demoimap.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "imap://" + demoUser + "@" + srv.Addr + "/INBOX"
	state := filepath.Join(dir, "s.db")

	code, stdout, stderr := runBouncer(t, "run", "--imap", url, "--password-file", srv.PasswordFile, "--state", state)
	checkOneLineError(t, code, stdout, stderr, "bouncer: imap: "+srv.Addr+" offers no STARTTLS")

	list := filepath.Join(dir, "list.csv")
	code, stdout, stderr = runBouncer(t, "run", "--imap", url, "--insecure-plaintext", "--password-file", srv.PasswordFile,
		"--after", "seen", "--state", state, "--out", list)
	if code != exitOK {
		t.Fatalf("run = %d\n%s%s", code, stdout, stderr)
	}
	if _, ok := readList(t, list)[complaintAddr]; !ok {
		t.Errorf("%s missing from the list", complaintAddr)
	}
	// --after seen leaves the bounces in INBOX; the rest goes to humans.
	want := len(noFailures(t, demoFiles(t)))
	if inbox, unrec := srv.Count("INBOX"), srv.Count(defaultUnrecognizedFolder); unrec != want || inbox+unrec != srv.Loaded {
		t.Errorf("INBOX %d, %s %d; want %d unrecognized and %d in all", inbox, defaultUnrecognizedFolder, unrec, want, srv.Loaded)
	}
}
