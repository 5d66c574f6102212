package main

import (
	"fmt"
	"os"

	"github.com/bouncer-dev/bouncer/dsn"
)

func main() {
	for _, a := range os.Args[1:] {
		f, _ := os.Open(a)
		rep, err := dsn.Parse(f, nil)
		fmt.Println(a, rep.Kind, rep.Vendor, "VERP=", rep.VERP, "err=", err)
		for _, r := range rep.Recipients {
			fmt.Printf("  final=%s orig=%s pos=%s action=%s status=%s rc=%s cmd=%s diag=%.200q\n", r.FinalRecipient, r.OriginalRecipient, r.Position, r.Action, r.Status, r.ReplyCode, r.Command, r.Diagnostic)
		}
		fmt.Printf("  notice=%.300q\n", rep.Notice)
	}
}
