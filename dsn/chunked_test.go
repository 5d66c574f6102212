package dsn

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkReader returns the bytes of r in pieces of 1 to max bytes, the sizes
// drawn from a seeded source: the way TLS records and TCP segments deliver a
// message.
type chunkReader struct {
	r   io.Reader
	rnd *rand.Rand
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1+c.rnd.IntN(min(len(p), c.max))]
	}
	return c.r.Read(p)
}

// sampleFiles lists the messages the chunked reading is checked on: the
// samples in ../testdata and, when they are beside the checkout, the shared
// corpora.
func sampleFiles(t testing.TB) []string {
	var files []string
	for _, pat := range []string{
		"../testdata/*.eml",
		"../../shared/corpus/bounces/*",
		"../../shared/corpus/not-bounces/*",
		"../../shared/ext-corpus/messages/*/*",
	} {
		m, err := filepath.Glob(pat)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	return files
}

// TestChunkedReadsAgree parses every sample whole, one byte at a time and in
// random small pieces, and requires the same report each time: the answer
// must not depend on how the bytes arrive.
func TestChunkedReadsAgree(t *testing.T) {
	for _, name := range sampleFiles(t) {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		want, wantErr := Parse(bytes.NewReader(b), nil)
		readers := map[string]io.Reader{
			"one-byte": iotest.OneByteReader(bytes.NewReader(b)),
			"half":     iotest.HalfReader(bytes.NewReader(b)),
			"random":   &chunkReader{r: bytes.NewReader(b), rnd: rand.New(rand.NewPCG(uint64(len(b)), 1)), max: 97},
		}
		for how, r := range readers {
			got, gotErr := Parse(r, nil)
			if !assert.Equal(t, want, got, "%s read %s", name, how) {
				continue
			}
			assert.Equal(t, errText(wantErr), errText(gotErr), "%s read %s", name, how)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzChunkedReads compares a whole read of the input with a read in pieces
// whose sizes come from the fuzzer.
func FuzzChunkedReads(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.eml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, uint64(len(b)))
		}
	}
	opts := &Options{MaxRecipients: 50, MaxParts: 50, MaxDepth: 8, MaxTextBytes: 8 << 10}
	f.Fuzz(func(t *testing.T, b []byte, seed uint64) {
		want, wantErr := parseNoRecover(bytes.NewReader(b), opts)
		got, gotErr := parseNoRecover(&chunkReader{r: bytes.NewReader(b), rnd: rand.New(rand.NewPCG(seed, 2)), max: 64}, opts)
		require.Equal(t, want, got)
		require.Equal(t, errText(wantErr), errText(gotErr))
	})
}

// TestBase64Lenient pins down the lenient base64 decoding: junk between
// characters is skipped, padding in the middle ends a quantum, and the
// result does not depend on how the bytes arrive.
func TestBase64Lenient(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"aGVsbG8=", "hello"},
		{"aGVs\r\nbG8=\r\n", "hello"},
		{"aGVs bG8", "hello"},
		{"aGk=aGk=", "hihi"},
		{"000=0000", "\xd3\x4d\xd3\x4d\x34"},
		{"a", ""},
		{"!!!", ""},
	} {
		for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
			got, err := io.ReadAll(transferDecoder("base64", r))
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got), "%q", tc.in)
		}
	}
}
