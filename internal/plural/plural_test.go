package plural

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestN(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0 addresses"},
		{1, "1 address"},
		{2, "2 addresses"},
		{-1, "-1 addresses"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, N(tc.n, "address", "addresses"), "N(%d)", tc.n)
	}
}

func ExampleN() {
	fmt.Println(N(1, "bounce", "bounces"))
	fmt.Println(N(3, "bounce", "bounces"))
	// Output:
	// 1 bounce
	// 3 bounces
}
