package suppress

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRedact checks that a shown state keeps its host and database and
// loses every secret: the user-info, the values of password-like query
// parameters, and, for a URL that does not parse, all but its host.
func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/var/lib/bouncer/state.db", "/var/lib/bouncer/state.db"},
		{"postgres://bob:pw@db.example:5432/b", "postgres://xxxxx@db.example:5432/b"},
		{"postgres://bob@db.example/b", "postgres://xxxxx@db.example/b"},
		{"postgres://db.example/b?sslmode=verify-full&password=pw", "postgres://db.example/b?password=xxxxx&sslmode=verify-full"},
		{"postgresql://db.example/b?sslpassword=pw&passfile=/p&sslkey=/k", "postgresql://db.example/b?passfile=xxxxx&sslkey=xxxxx&sslpassword=xxxxx"},
		{"postgres://db.example/b?PASSWORD=pw", "postgres://db.example/b?PASSWORD=xxxxx"},
		{"postgres://[::1/b?password=pw", "postgres://[::1/b?xxxxx"},
		{"postgres://u:pw@[::1/b", "postgres://xxxxx@[::1/b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, Redact(tt.in), "Redact(%q)", tt.in)
		})
	}
}
