package runjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/bouncer-dev/bouncer/imapfetch"
	"github.com/bouncer-dev/bouncer/internal/plural"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/oauth"
	"github.com/bouncer-dev/bouncer/pipeline"
	"github.com/bouncer-dev/bouncer/suppress"
)

// summary prints what the run did.
func summary(w io.Writer, cfg *Config, st pipeline.Stats, before, after suppress.Lists, files []string, srcs []*opened) {
	st.Summary(w)
	if !cfg.DryRun {
		folderLines(w, srcs)
	}
	listsSummary(w, cfg, before, after)
	for _, f := range files {
		if cfg.SummaryPath {
			if abs, err := filepath.Abs(f); err == nil {
				f = abs
			}
		}
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	if len(files) == 0 && !cfg.DryRun {
		fmt.Fprintf(w, "no list written (no --out or --out-dir); bouncer export --state %s writes it from the state\n", suppress.Redact(cfg.State))
	}
}

// shownNewly is how many newly suppressed addresses the summary names.
const shownNewly = 20

// listsSummary says what changed on the lists: the addresses newly
// suppressed (the first shownNewly of them) and the size of the lists; the
// policy report only when one is written (--out-dir's policy.csv).
func listsSummary(w io.Writer, cfg *Config, before, after suppress.Lists) {
	newly := suppress.NewlySuppressed(before.Suppressed, after.Suppressed)
	fmt.Fprintf(w, "newly suppressed: %s\n", plural.N(len(newly), "address", "addresses"))
	for i, e := range newly {
		if i == shownNewly {
			fmt.Fprintf(w, "  … and %d more\n", len(newly)-shownNewly)
			break
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n", e.Address, e.Category, e.Reason)
	}
	fmt.Fprintf(w, "suppression list: %s", plural.N(len(after.Suppressed), "address", "addresses"))
	if cfg.OutDir != "" {
		fmt.Fprintf(w, "; policy report (policy.csv, not suppressed): %s", plural.N(len(after.Policy), "address", "addresses"))
	}
	fmt.Fprintln(w)
}

// dryRunReport says what a dry run would have done with the messages and
// the lists.
func dryRunReport(ctx context.Context, w io.Writer, cfg *Config, db *suppress.DB, srcs []*opened, pushedBefore map[string]int) {
	for _, o := range srcs {
		fmt.Fprint(w, "dry run: ")
		if len(srcs) > 1 {
			fmt.Fprintf(w, "%s: ", mailboxName(o.mb))
		}
		processed, unrecognized := o.folderNames()
		switch o.mb.After {
		case mailsource.ActionMove:
			fmt.Fprintf(w, "would move %d bounces to %s", o.dry.Moves.Processed, processed)
		case mailsource.ActionSeen:
			fmt.Fprintf(w, "would mark %d bounces as seen", o.dry.Moves.Processed)
		case mailsource.ActionDelete:
			fmt.Fprintf(w, "would delete %d bounces", o.dry.Moves.Processed)
		default:
			fmt.Fprintf(w, "would leave %d bounces in place", o.dry.Moves.Processed)
		}
		if unrecognized != "" {
			fmt.Fprintf(w, ", move %d others to %s\n", o.dry.Moves.Unrecognized, unrecognized)
		} else {
			fmt.Fprintf(w, ", leave %d others in place\n", o.dry.Moves.Unrecognized)
		}
	}
	for _, f := range []string{cfg.Out, cfg.OutDir} {
		if f != "" {
			fmt.Fprintf(w, "dry run: would write %s\n", f)
		}
	}
	if pending, err := pendingPush(ctx, db, cfg); err == nil {
		for _, t := range cfg.Push {
			fmt.Fprintf(w, "dry run: would push %d events to %s\n", pending[t.String()]-pushedBefore[t.String()], t)
		}
	}
	fmt.Fprintf(w, "dry run: nothing was changed: not the state %s, the mailbox, the lists, nor any push target\n", suppress.Redact(cfg.State))
}

// folderNames returns the processed and unrecognized folders of o: as the
// IMAP server names them (in its namespace), or as the mailbox gave them.
func (o *opened) folderNames() (processed, unrecognized string) {
	if o.folders != nil {
		return o.folders.Processed, o.folders.Unrecognized
	}
	return o.mb.ProcessedFolder, o.mb.UnrecognizedFolder
}

// folderLines says, for each IMAP mailbox that files messages, the folders
// used, as the server names them.
func folderLines(w io.Writer, srcs []*opened) {
	for _, o := range srcs {
		if o.folders == nil || o.folders.Processed == "" && o.folders.Unrecognized == "" {
			continue
		}
		if len(srcs) > 1 {
			fmt.Fprintf(w, "%s: ", mailboxName(o.mb))
		}
		fmt.Fprint(w, "folders:")
		if o.folders.Processed != "" {
			fmt.Fprintf(w, " bounces to %s", o.folders.Processed)
		}
		if o.folders.Unrecognized != "" {
			if o.folders.Processed != "" {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, " others to %s", o.folders.Unrecognized)
		}
		fmt.Fprintln(w)
	}
}

// diskFull words a state or list that cannot be written for lack of space.
const diskFull = "disk full: the state %s or the lists cannot be written (%s); free some space and run again: what was recorded is kept, and nothing was moved that was not recorded"

// describeError turns an error of a run into one line for stderr.
func describeError(err error, cfg *Config) string {
	switch {
	case errors.Is(err, suppress.ErrDiskFull), errors.Is(err, syscall.ENOSPC):
		return "bouncer: " + fmt.Sprintf(diskFull, suppress.Redact(cfg.State), oneLine(err))
	case errors.Is(err, suppress.ErrLeased):
		return fmt.Sprintf("bouncer: another host is working this mailbox (%s); this run did nothing; --watch waits to take over", oneLine(err))
	case errors.Is(err, suppress.ErrLeaseLost):
		return fmt.Sprintf("bouncer: this host lost the mailbox to another (%s); what was recorded is kept, the other host goes on", oneLine(err))
	case errors.Is(err, suppress.ErrReadOnly):
		return fmt.Sprintf("bouncer: the state is read-only: %s; bouncer run must be able to write it and its folder", oneLine(err))
	}
	prefix, url := "bouncer: ", ""
	var me *mailboxError
	if errors.As(err, &me) {
		url = me.mb.IMAPURL
		if len(cfg.Mailboxes) > 1 {
			prefix += mailboxName(me.mb) + ": "
		}
	}
	var e *imapfetch.Error
	if !errors.As(err, &e) {
		return prefix + oneLine(err)
	}
	return prefix + "imap: " + describeIMAP(err, e, url)
}

// describeIMAP words an error of the mailbox by its kind.
func describeIMAP(err error, e *imapfetch.Error, url string) string {
	var who string
	if u, perr := imapfetch.ParseURL(url); perr == nil {
		who = u.User + "@" + u.Host
	}
	detail := ""
	if e.Err != nil {
		detail = oneLine(e.Err)
	}
	if e.Op != "" {
		detail = e.Op + ": " + detail
	}
	if rest, ok := strings.CutPrefix(oneLine(err), e.Error()); ok {
		detail += rest // what was added around it, e.g. "(gave up after 6 attempts)"
	}
	switch e.Kind {
	case imapfetch.KindAuth:
		return fmt.Sprintf("login failed for %s: %s", who, detail)
	case imapfetch.KindToken:
		if errors.Is(err, oauth.ErrInvalidGrant) || errors.Is(err, oauth.ErrFile) {
			detail += "; run bouncer auth --oauth-credentials FILE"
		}
		return fmt.Sprintf("no OAuth2 token for %s: %s", who, detail)
	case imapfetch.KindCertificate:
		return fmt.Sprintf("the certificate of %s is not trusted (see --ca-file): %s", e.Addr, detail)
	case imapfetch.KindTLSRequired:
		return fmt.Sprintf("%s offers no STARTTLS (use imaps://, or --insecure-plaintext on a trusted network): %s", e.Addr, detail)
	case imapfetch.KindSecret:
		return fmt.Sprintf("cannot read the password: %s", detail)
	case imapfetch.KindMailbox:
		return fmt.Sprintf("cannot open mailbox %q: %s", e.Mailbox, detail)
	case imapfetch.KindUnreachable:
		return fmt.Sprintf("cannot reach %s: %s", e.Addr, detail)
	case imapfetch.KindDisconnected:
		return fmt.Sprintf("lost the connection to %s: %s", e.Addr, detail)
	case imapfetch.KindTimeout:
		return fmt.Sprintf("%s does not answer: %s", e.Addr, detail)
	case imapfetch.KindTooLarge:
		return fmt.Sprintf("%s sent more than bouncer accepts (not retried): %s", e.Addr, detail)
	case imapfetch.KindRefused:
		what := e.Op
		if e.Mailbox != "" {
			what += fmt.Sprintf(" %q", e.Mailbox)
		}
		return fmt.Sprintf("%s refused %s for good: %s", e.Addr, what, strings.TrimPrefix(detail, e.Op+": "))
	case imapfetch.KindOptions:
		return detail
	}
	return strings.TrimPrefix(oneLine(err), "imapfetch: ")
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
