package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/suppress"
)

// syncBuffer is a strings.Builder safe to read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	db, err := suppress.Open(context.Background(), state, nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte("0123456789abcdef0123456789abcdef\n"), 0o644))
	private := filepath.Join(dir, "private")
	require.NoError(t, os.WriteFile(private, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no token file", []string{"--state", state}, exitUsage, "bouncer serve: --token-file is required"},
		{"token readable by others", []string{"--state", state, "--token-file", token}, exitError, "chmod 600"},
		{"missing state", []string{"--state", filepath.Join(dir, "typo.db"), "--token-file", private, "--listen", "127.0.0.1:0"}, exitError, "no state"},
		{"clear text for all", []string{"--state", state, "--token-file", private, "--listen", "0.0.0.0:0"}, exitError, "--insecure-http"},
		{"argument", []string{"--token-file", private, "extra"}, exitUsage, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBouncer(t, append([]string{"serve"}, tc.args...)...)
			assert.Equal(t, tc.code, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			assert.NotContains(t, stderr, "0123456789abcdef", "the token never shows")
		})
	}
}

func TestHelpListsServe(t *testing.T) {
	code, stdout, _ := runBouncer(t, "help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "serve    serve the console")
}

// TestDemoServe runs bouncer demo --serve and asks its console, with the
// token it printed, whether a suppressed address of the demo is.
func TestDemoServe(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := demoContext
	demoContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { demoContext = old }()

	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"demo", "--serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	}()
	re := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/)\n  token: (\S+)\n`)
	var m []string
	require.Eventually(t, func() bool {
		m = re.FindStringSubmatch(stdout.String())
		return m != nil
	}, 60*time.Second, 20*time.Millisecond, "no URL and token in %q %q", stdout.String(), stderr.String())

	var addr string
	for a := range demoSuppressed() {
		addr = a
		break
	}
	req, err := http.NewRequest(http.MethodGet, m[1]+"api/v1/suppressions/"+addr, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+m[2])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct{ Email, Category string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, addr, got.Email)
	assert.Equal(t, demoSuppressed()[addr], got.Category)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, "stderr: %s", stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("demo --serve did not stop")
	}
}
