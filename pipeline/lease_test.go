package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/pgtest"
	"github.com/bouncer-dev/bouncer/mailsource"
	"github.com/bouncer-dev/bouncer/suppress"
)

func TestMain(m *testing.M) {
	if env := os.Getenv("PIPELINE_LEASE_CHILD"); env != "" {
		os.Exit(leaseChild(env))
	}
	pgtest.Main(m)
}

// samples are the messages of ../testdata.
func samples(t *testing.T) [][]byte {
	t.Helper()
	files, err := filepath.Glob("../testdata/*.eml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// lists is every list format of the state's lists, as bytes.
func lists(t *testing.T, db *suppress.DB) string {
	t.Helper()
	l, err := db.Lists(context.Background(), nil, nil)
	require.NoError(t, err)
	require.NotEmpty(t, l.Suppressed)
	var b bytes.Buffer
	for _, f := range suppress.Formats() {
		b.WriteString("== " + string(f) + "\n")
		require.NoError(t, suppress.WriteCSV(&b, f, l.Suppressed))
		require.NoError(t, suppress.WriteCSV(&b, f, l.WithPolicy()))
	}
	return b.String()
}

// sharedMaildir is the key under which the tests' hosts lease the one
// Maildir they share.
const sharedMaildir = "maildir:shared"

// leaseOpts are Run's options for a host of the lease tests.
func leaseOpts(holder string) *Options {
	return &Options{LeaseKey: sharedMaildir, BatchSize: 4,
		Lease: suppress.LeaseOptions{TTL: 500 * time.Millisecond, Holder: holder}}
}

func openMaildir(t *testing.T, dir string) *mailsource.Maildir {
	t.Helper()
	md, err := mailsource.OpenMaildir(dir, nil)
	require.NoError(t, err)
	return md
}

// runUntilLeased runs a pass, trying again while another host holds the
// mailbox.
func runUntilLeased(ctx context.Context, db *suppress.DB, src mailsource.Source, opts *Options) (Stats, error) {
	for {
		st, err := Run(ctx, db, src, opts)
		if !errors.Is(err, suppress.ErrLeased) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sharedSetup returns the samples, the lists of one host that ran over
// them alone (in a database of its own), and for the hosts under test an
// empty database and a Maildir of the samples.
func sharedSetup(t *testing.T) (msgs [][]byte, want, url, dir string) {
	t.Helper()
	srv := pgtest.Shared(t)
	msgs = samples(t)
	single := openState(t, srv.Database(t))
	defer single.Close()
	dir = filepath.Join(t.TempDir(), "Maildir")
	writeMaildir(t, dir, msgs)
	_, err := Run(context.Background(), single, openMaildir(t, dir), nil)
	require.NoError(t, err)
	want = lists(t, single)

	url = srv.Database(t)
	dir = filepath.Join(t.TempDir(), "Maildir")
	writeMaildir(t, dir, msgs)
	return msgs, want, url, dir
}

// TestRunStoresAgree runs the samples into SQLite and into PostgreSQL:
// the lists are the same bytes in every format.
func TestRunStoresAgree(t *testing.T) {
	msgs := samples(t)
	var got []string
	for _, state := range []string{filepath.Join(t.TempDir(), "s.db"), pgtest.Shared(t).Database(t)} {
		dir := filepath.Join(t.TempDir(), "Maildir")
		writeMaildir(t, dir, msgs)
		db := openState(t, state)
		st, err := Run(context.Background(), db, openMaildir(t, dir), nil)
		require.NoError(t, err)
		assert.Equal(t, len(msgs), st.Messages)
		got = append(got, lists(t, db))
		require.NoError(t, db.Close())
	}
	assert.Equal(t, got[0], got[1], "SQLite and PostgreSQL give different lists")
}

// TestRunTwoHosts runs two hosts at once over one Maildir and one
// PostgreSQL database: one works the mailbox at a time, each message is
// recorded once, and the lists equal a single host's.
func TestRunTwoHosts(t *testing.T) {
	ctx := context.Background()
	msgs, want, url, dir := sharedSetup(t)
	var (
		wg    sync.WaitGroup
		stats [2]Stats
		errs  [2]error
		hosts [2]*suppress.DB
	)
	for i := range hosts {
		hosts[i] = openState(t, url)
		defer hosts[i].Close()
	}
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = runUntilLeased(ctx, hosts[i], openMaildir(t, dir), leaseOpts([]string{"a", "b"}[i]))
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	fresh := stats[0].Messages - stats[0].Already + stats[1].Messages - stats[1].Already
	assert.Equal(t, len(msgs), fresh, "each message is recorded by one host")
	c, err := hosts[0].Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(msgs), c.Messages)
	assert.Equal(t, want, lists(t, hosts[1]))
}

// TestRunLeaseHolderKilled kills, with SIGKILL, a host in the middle of
// its run (it has committed some batches and holds the lease): the other
// host takes the mailbox once the lease has expired and finishes, with
// nothing lost and nothing counted twice.
func TestRunLeaseHolderKilled(t *testing.T) {
	ctx := context.Background()
	msgs, want, url, dir := sharedSetup(t)
	db := openState(t, url) // migrated before the child starts
	defer db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PIPELINE_LEASE_CHILD="+url+" "+dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := db.Counts(ctx)
		require.NoError(t, err)
		if c.Messages >= 8 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the child recorded %d messages", c.Messages)
		time.Sleep(20 * time.Millisecond)
	}
	_, err := Run(ctx, db, openMaildir(t, dir), leaseOpts("parent"))
	require.ErrorIs(t, err, suppress.ErrLeased, "the child works the mailbox")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	c, err := db.Counts(ctx)
	require.NoError(t, err)
	require.Less(t, c.Messages, len(msgs), "the child was killed before it finished")
	byChild := c.Messages

	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st, err := runUntilLeased(tctx, db, openMaildir(t, dir), leaseOpts("parent"))
	require.NoError(t, err)
	assert.Equal(t, len(msgs)-byChild, st.Messages-st.Already, "the parent records what the child had not committed")
	c, err = db.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(msgs), c.Messages)
	assert.Equal(t, want, lists(t, db))
}

// leaseChild is the host that TestRunLeaseHolderKilled kills: it works the
// Maildir slowly, a few messages per batch, until it is killed.
func leaseChild(env string) int {
	var url, dir string
	if i := bytes.LastIndexByte([]byte(env), ' '); i > 0 {
		url, dir = env[:i], env[i+1:]
	}
	ctx := context.Background()
	db, err := suppress.Open(ctx, url, nil)
	if err != nil {
		return 2
	}
	md, err := mailsource.OpenMaildir(dir, nil)
	if err != nil {
		return 3
	}
	o := leaseOpts("child")
	o.Delay = 30 * time.Millisecond
	o.Workers = 1
	Run(ctx, db, md, o)
	return 4
}

// TestRunWatchWaitsForLease: with Watch, a standby host waits while
// another holds the mailbox, and works it once the holder gives it up.
func TestRunWatchWaitsForLease(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Shared(t).Database(t)
	msgs := samples(t)
	dir := filepath.Join(t.TempDir(), "Maildir")
	writeMaildir(t, dir, msgs)
	holder, standby := openState(t, url), openState(t, url)
	defer holder.Close()
	defer standby.Close()

	lease, err := holder.AcquireLease(ctx, sharedMaildir, &leaseOpts("holder").Lease)
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o := leaseOpts("standby")
	o.Watch, o.Poll = true, 20*time.Millisecond
	done := make(chan error, 1)
	var st Stats
	go func() {
		var err error
		st, err = Run(wctx, standby, openMaildir(t, dir), o)
		done <- err
	}()

	time.Sleep(time.Second) // two TTLs: the holder renews, the standby waits
	c, err := standby.Counts(ctx)
	require.NoError(t, err)
	assert.Zero(t, c.Messages, "the standby works nothing while the lease is held")

	require.NoError(t, lease.Release(ctx))
	deadline := time.Now().Add(20 * time.Second)
	for c.Messages < len(msgs) {
		require.True(t, time.Now().Before(deadline), "the standby recorded %d of %d", c.Messages, len(msgs))
		time.Sleep(20 * time.Millisecond)
		c, err = standby.Counts(ctx)
		require.NoError(t, err)
	}
	cancel()
	require.NoError(t, <-done)
	// A pass of the watch may meet again a message the one before
	// recorded and has not moved yet: counted as known, not as new.
	assert.Equal(t, len(msgs), st.Messages-st.Already-st.Duplicates, "%+v", st)
}

// TestRunLeasesMaildirPerHost: on a shared state a Maildir is leased under
// its host and path, so that a second run on the host waits its turn; on
// SQLite nothing is leased (the file lock does that job).
func TestRunLeasesMaildirPerHost(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "Maildir")
	writeMaildir(t, dir, samples(t)[:3])
	md := openMaildir(t, dir)
	host, err := os.Hostname()
	require.NoError(t, err)

	lite := openState(t, filepath.Join(t.TempDir(), "s.db"))
	defer lite.Close()
	assert.Empty(t, leaseKey(lite, md, &Options{}))
	assert.Equal(t, "k", leaseKey(lite, md, &Options{LeaseKey: "k"}))

	db := openState(t, pgtest.Shared(t).Database(t))
	defer db.Close()
	key := leaseKey(db, md, &Options{})
	assert.Equal(t, "maildir://"+host+filepath.ToSlash(md.Dir()), key)
	imap := &imapSource{key: "imaps://bounce@mx.example/INBOX"}
	assert.Equal(t, "imaps://bounce@mx.example/INBOX", leaseKey(db, imap, &Options{}), "an IMAP mailbox by its URL")
	assert.Empty(t, leaseKey(lite, imap, &Options{}))
	other, err := db.AcquireLease(ctx, key, &suppress.LeaseOptions{Holder: "other run"})
	require.NoError(t, err)
	_, err = Run(ctx, db, md, nil)
	require.ErrorIs(t, err, suppress.ErrLeased)
	assert.Contains(t, err.Error(), "other run")
	require.NoError(t, other.Release(ctx))
	st, err := Run(ctx, db, md, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Messages)
}

// TestRunLeasedFlood: on a shared state, where Run works the mailbox under
// a lease, the summary still names a flood and counts what a later pass
// met again (the counts of each pass are summed whole).
func TestRunLeasedFlood(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	writeMaildir(t, dir, [][]byte{bigReport(DefaultMaxSuppressPerMessage + 1)})
	db := openState(t, pgtest.Shared(t).Database(t))
	defer db.Close()
	st, err := Run(context.Background(), db, openMaildir(t, dir), leaseOpts("host"))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Flooded)
	assert.Len(t, st.FloodedNames, 1)
	assert.Equal(t, 1, st.Messages)
}
