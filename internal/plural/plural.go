// Package plural words a count with its noun for the summaries bouncer
// prints: "1 address", "2 addresses", "0 bounces".
package plural

import "strconv"

// N returns n followed by one (when n is 1) or many.
func N(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
