package push

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/bouncer-dev/bouncer/internal/secretfile"
	"net/url"
	"os"
	"strings"

	"github.com/bouncer-dev/bouncer/classify"
)

// Kind is the kind of a push target: which API it speaks.
type Kind string

const (
	// KindListmonk: listmonk's bounce API (POST URL/webhooks/bounce).
	KindListmonk Kind = "listmonk"
	// KindMautic: Mautic's REST API, a Do Not Contact entry per contact.
	KindMautic Kind = "mautic"
	// KindWebhook: a signed JSON Event to any URL.
	KindWebhook Kind = "webhook"
)

// Kinds returns every kind.
func Kinds() []Kind { return []Kind{KindListmonk, KindMautic, KindWebhook} }

// Categories returns the event categories a target of kind k is queued:
// listmonk and Mautic hard, soft and complaint (the soft ones sent only
// when they bring their address to bouncer's threshold, unless listmonk's
// SoftAll); the webhook every category. A
// policy block is the sender's trouble, not the subscriber's, so only the
// webhook hears of it.
func (k Kind) Categories() []classify.Category {
	switch k {
	case KindListmonk:
		return []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryComplaint}
	case KindMautic:
		return []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryComplaint}
	case KindWebhook:
		return []classify.Category{classify.CategoryHard, classify.CategorySoft, classify.CategoryComplaint,
			classify.CategoryPolicy, classify.CategoryNone}
	}
	return nil
}

func (k Kind) valid() bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}

// Target is one destination: a kind and a URL. For listmonk and Mautic the
// URL is the installation's root (the API paths are appended); for the
// webhook it is the URL posted to.
type Target struct {
	Kind Kind
	URL  *url.URL
}

// ParseTarget parses "KIND=URL" (the --push flag): KIND is listmonk, mautic
// or webhook, URL an absolute http or https URL without user information
// (credentials go in the secret file) or fragment. The URL is the target's
// name in the state and in logs, so it must hold no secret: a webhook is
// authenticated by its signing key, not by a secret path.
func ParseTarget(s string) (Target, error) {
	// The errors never quote s: a mistyped value may hold a credential.
	k, raw, ok := strings.Cut(s, "=")
	if !ok {
		return Target{}, fmt.Errorf("%w: want KIND=URL", ErrBadTarget)
	}
	kind := Kind(strings.ToLower(strings.TrimSpace(k)))
	if !kind.valid() {
		return Target{}, fmt.Errorf("%w: unknown kind (want KIND=URL, KIND one of listmonk, mautic, webhook)", ErrBadTarget)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return Target{}, fmt.Errorf("%w %q: %v", ErrBadTarget, kind, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return Target{}, fmt.Errorf("%w %q: URL scheme must be http or https", ErrBadTarget, kind)
	case u.Host == "":
		return Target{}, fmt.Errorf("%w %q: URL without a host", ErrBadTarget, kind)
	case u.User != nil:
		// Never echo the URL here: it holds a credential.
		return Target{}, fmt.Errorf("%w %q: credentials in the URL; put them in the secret file", ErrBadTarget, kind)
	case u.Fragment != "" || u.RawFragment != "":
		return Target{}, fmt.Errorf("%w %q: URL with a fragment", ErrBadTarget, kind)
	}
	if kind != KindWebhook {
		if u.RawQuery != "" {
			return Target{}, fmt.Errorf("%w %q: the root URL of the installation takes no query", ErrBadTarget, kind)
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
	}
	return Target{Kind: kind, URL: u}, nil
}

// String returns "KIND=URL", the form ParseTarget reads; it is also the
// target's name in the outbox, so changing a target's URL starts a new
// queue.
func (t Target) String() string {
	if t.URL == nil {
		return string(t.Kind) + "="
	}
	return string(t.Kind) + "=" + t.URL.String()
}

// endpoint is the target's root URL with path p appended.
func (t Target) endpoint(p string) string {
	u := *t.URL
	u.Path += p
	u.RawPath = ""
	return u.String()
}

// MaxSecretFile is the most bytes read from a secret file.
const MaxSecretFile = 64 << 10

// secret is a credential; it formats as "[redacted]" so that it cannot
// reach a log by accident.
type secret string

func (secret) String() string   { return "[redacted]" }
func (secret) GoString() string { return "[redacted]" }

// secrets maps a name (a kind, or a whole target "KIND=URL") to its secret.
type secrets map[string]secret

// loadSecrets reads a secret file: one "NAME SECRET" a line, NAME a kind
// ("listmonk") or a target as given to ParseTarget ("listmonk=https://…"),
// then white space, then the secret, which runs to the end of the line
// (white space around it dropped). Blank lines and lines starting with "#"
// are ignored.
func loadSecrets(path string) (secrets, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecret, err)
	}
	defer f.Close()
	if err := secretfile.Check(f, path); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSecret, err)
	}
	out := make(secrets)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), MaxSecretFile)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		line = strings.TrimLeft(line, " \t")
		i := strings.IndexAny(line, " \t")
		var name, value string
		if i > 0 {
			name, value = line[:i], strings.Trim(line[i:], " \t")
		}
		if value == "" {
			// Do not quote the line: it may be a secret without a name.
			return nil, fmt.Errorf("%w: %s line %d: want NAME SECRET", ErrSecret, path, n)
		}
		name = normalizeName(name)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: %s line %d: %s given twice", ErrSecret, path, n, name)
		}
		out[name] = secret(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSecret, path, err)
	}
	return out, nil
}

// normalizeName puts a secret file's NAME into the form Target.String
// gives, so that "listmonk=https://x/" finds the target "listmonk=https://x".
func normalizeName(name string) string {
	if t, err := ParseTarget(name); err == nil {
		return t.String()
	}
	return strings.ToLower(name)
}

// forTarget returns the secret for t: the one named by the whole target,
// else the one named by its kind.
func (s secrets) forTarget(t Target) (secret, error) {
	if v, ok := s[t.String()]; ok {
		return v, nil
	}
	if v, ok := s[string(t.Kind)]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%w: no secret for %s (a line %q or %q)", ErrSecret, t, string(t.Kind)+" SECRET", t.String()+" SECRET")
}

// checkSecret checks the form of t's secret: user:token for listmonk,
// user:password for Mautic.
func checkSecret(t Target, s secret) error {
	switch t.Kind {
	case KindListmonk, KindMautic:
		if u, p, ok := strings.Cut(string(s), ":"); !ok || u == "" || p == "" {
			return fmt.Errorf("%w: the secret for %s must be USER:TOKEN", ErrSecret, t)
		}
	}
	return nil
}
