package pgtest

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStart(t *testing.T) {
	s := Start(t)
	db, err := sql.Open("pgx", s.Database(t))
	require.NoError(t, err)
	defer db.Close()
	var one int
	require.NoError(t, db.QueryRow("SELECT 1").Scan(&one))
	assert.Equal(t, 1, one)
}
