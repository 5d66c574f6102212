// Package bouncer holds the sample messages of testdata/, which the
// `bouncer demo` command loads into its embedded IMAP server. The program
// itself is cmd/bouncer; the packages that do the work are dsn, classify,
// imapfetch and suppress.
package bouncer

import "embed"

// Samples holds testdata/*.eml: real bounces from the sisimai project's test
// set (BSD 2-Clause, testdata/LICENSE-corpus) and messages written for this
// project. See testdata/README.md.
//
//go:embed testdata/*.eml
var Samples embed.FS
