package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bouncer-dev/bouncer/internal/pgtest"
	"github.com/bouncer-dev/bouncer/suppress"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestPostgres: the console over a PostgreSQL state, as over SQLite:
// the overview, the list, an address's history, an Allow and a Forget.
func TestPostgres(t *testing.T) {
	state := pgtest.Shared(t).Database(t)
	db, err := suppress.Open(context.Background(), state, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	record(t, db, "INBOX", testHistory)
	_, err = New(db, nil)
	require.ErrorIs(t, err, ErrNoToken)
	srv, err := New(db, &Options{Token: testToken})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{db: db, srv: srv, ts: ts}
	c := e.client(t)

	resp, body := e.get(t, c, "/", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `<strong id="suppressed-total">4</strong>`)
	_, body = e.get(t, c, "/suppressions?category=hard", testToken)
	assert.Equal(t, []string{"gone@example.com", "nodomain@nowhere.example"}, rowsOf(body))
	resp, body = e.get(t, c, "/api/v1/addresses/full@example.net", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"rule": "soft-threshold"`)

	csrf := e.login(t, c)
	resp, _ = e.post(t, c, "/addresses/gone@example.com/allow", url.Values{"csrf": {csrf}, "reason": {"fixed"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = e.get(t, c, "/api/v1/suppressions/gone@example.com", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, body = e.apiPost(t, "/api/v1/addresses/full@example.net/forget", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, _ = e.get(t, c, "/api/v1/addresses/full@example.net", testToken)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
