package verp

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/bouncer-dev/bouncer/internal/secretfile"
	"io"
	"os"
)

// Limits of a key file.
const (
	// MinKeyBytes is the shortest key accepted: 128 bits of a random
	// secret, or more of a passphrase.
	MinKeyBytes = 16
	// MaxKeyBytes is the longest key accepted.
	MaxKeyBytes = 1024
	// MaxKeys is the most keys a key file may hold. Verify tries every key,
	// so each one costs time and, for BATV's short signature, a little of
	// its strength.
	MaxKeys = 10
	// MaxKeyFileBytes caps the bytes read from a key file.
	MaxKeyFileBytes = 64 << 10
)

// Errors about keys.
var (
	// ErrNoKeys means no key was given: nothing can be signed or verified.
	ErrNoKeys = errors.New("verp: no key")
	// ErrBadKeys means a key file could not be used: a key too short or too
	// long, too many keys, or a file too large. The error never holds a
	// key.
	ErrBadKeys = errors.New("verp: bad key file")
)

// Keys are the secrets that sign and verify tags. The first key signs;
// every key verifies. A Keys value never shows its secrets: String and
// GoString say only how many keys it holds.
type Keys struct {
	keys [][]byte
	nums []byte // BATV key number digit of each key
}

// NewKeys returns Keys holding secrets, the first of which signs. Each
// secret must be MinKeyBytes to MaxKeyBytes long; at most MaxKeys.
func NewKeys(secrets ...[]byte) (*Keys, error) {
	if len(secrets) == 0 {
		return nil, ErrNoKeys
	}
	if len(secrets) > MaxKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrBadKeys, len(secrets), MaxKeys)
	}
	k := &Keys{}
	for i, s := range secrets {
		if len(s) < MinKeyBytes || len(s) > MaxKeyBytes {
			return nil, fmt.Errorf("%w: key %d is %d bytes, want %d to %d", ErrBadKeys, i+1, len(s), MinKeyBytes, MaxKeyBytes)
		}
		k.keys = append(k.keys, bytes.Clone(s))
		k.nums = append(k.nums, keyNumber(s))
	}
	return k, nil
}

// ParseKeys reads a key file from r: one key a line (the line's bytes,
// without surrounding white space), blank lines and lines starting with
// "#" ignored. At most MaxKeyFileBytes are read.
func ParseKeys(r io.Reader) (*Keys, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("verp: reading keys: %w", err)
	}
	if len(data) > MaxKeyFileBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadKeys, MaxKeyFileBytes)
	}
	var secrets [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxKeyFileBytes+1)
	line := 0
	for sc.Scan() {
		line++
		s := bytes.TrimSpace(sc.Bytes())
		if len(s) == 0 || s[0] == '#' {
			continue
		}
		if len(s) < MinKeyBytes || len(s) > MaxKeyBytes {
			return nil, fmt.Errorf("%w: the key on line %d is %d bytes, want %d to %d", ErrBadKeys, line, len(s), MinKeyBytes, MaxKeyBytes)
		}
		secrets = append(secrets, bytes.Clone(s))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeys, err)
	}
	return NewKeys(secrets...)
}

// LoadKeys reads the key file at path (see ParseKeys). The file should be
// readable by bouncer alone (mode 0600).
func LoadKeys(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verp: %w", err)
	}
	defer f.Close()
	if err := secretfile.Check(f, path); err != nil {
		return nil, fmt.Errorf("verp: %w", err)
	}
	k, err := ParseKeys(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Len returns the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.keys)
}

// String says how many keys k holds, never what they are.
func (k Keys) String() string { return fmt.Sprintf("verp.Keys(%d keys)", len(k.keys)) }

// GoString is String, so that %#v does not print the secrets either.
func (k Keys) GoString() string { return k.String() }

// Format prints String for every verb, so that no verb shows the secrets.
func (k Keys) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// keyNumber is the BATV key number digit of a key: derived from the key,
// so that it does not change when keys are reordered.
func keyNumber(key []byte) byte {
	h := sha256.New()
	h.Write([]byte("bouncer-batv-key-number\x00"))
	h.Write(key)
	return '0' + h.Sum(nil)[0]%10
}

// MaxEximPRVSKeyBytes is the longest key Exim's ${prvs{…}{KEY}{…}} and
// ${prvscheck…} expansions take: a longer one fails the expansion, so an
// MTA that signs BATV with Exim cannot use the key bouncer verifies with.
const MaxEximPRVSKeyBytes = 64

// LongerThan returns the numbers (from 1, in file order) of the keys
// longer than n bytes.
func (k *Keys) LongerThan(n int) []int {
	var out []int
	for i, s := range k.keys {
		if len(s) > n {
			out = append(out, i+1)
		}
	}
	return out
}

// EximWarning says which keys Exim's BATV signing (${prvs}) refuses for
// being longer than MaxEximPRVSKeyBytes, or "" when none is.
func (k *Keys) EximWarning() string {
	long := k.LongerThan(MaxEximPRVSKeyBytes)
	if len(long) == 0 {
		return ""
	}
	return fmt.Sprintf("key%s longer than %d bytes: Exim's ${prvs} refuses such a key, so an Exim that signs BATV cannot share it (openssl rand -hex 32 makes one of 64)",
		joinInts(long), MaxEximPRVSKeyBytes)
}

func joinInts(ns []int) string {
	var b bytes.Buffer
	for i, n := range ns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, n)
	}
	if len(ns) > 1 {
		return "s " + b.String() + " are"
	}
	return " " + b.String() + " is"
}
