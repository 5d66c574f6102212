package classify_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/dsn"
)

func ExampleClassify() {
	r := classify.Classify(classify.Input{
		Kind:       dsn.KindDSN,
		Status:     "5.1.1",
		ReplyCode:  "550",
		Diagnostic: "550 5.1.1 <kijitora@example.jp>... User Unknown",
		Action:     "failed",
	})
	fmt.Println(r.Reason, r.Category)
	fmt.Println(r.Evidence)
	// Output:
	// userunknown hard
	// phrase "user unknown"
}

func ExampleClassify_korean() {
	r := classify.Classify(classify.Input{
		Kind:       dsn.KindBounce,
		Diagnostic: "받는 사람의 메일함 용량이 초과되어 메일을 받을 수 없습니다.",
	})
	fmt.Println(r.Reason, r.Category)
	// Output:
	// mailboxfull soft
}

func ExampleClassify_status() {
	// Without telling words, the enhanced status code decides.
	r := classify.Classify(classify.Input{Kind: dsn.KindDSN, Status: "5.7.26", Diagnostic: "550 5.7.26 nope"})
	fmt.Println(r.Reason, r.Category, r.Evidence)
	// Output:
	// authfailure policy status "5.7.26"
}

func ExampleParseRules() {
	rules, err := classify.ParseRules(strings.NewReader(`# our local provider
mailbox has been retired   suspend
/quota (is )?exhausted/    mailboxfull
`))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rules {
		fmt.Println(r.Line, r)
	}
	// Output:
	// 2 mailbox has been retired suspend
	// 3 /quota (is )?exhausted/ mailboxfull
}

func ExampleNew() {
	rules, err := classify.ParseRules(strings.NewReader("mailbox has been retired suspend\n"))
	if err != nil {
		log.Fatal(err)
	}
	c, err := classify.New(&classify.Options{Rules: rules})
	if err != nil {
		log.Fatal(err)
	}
	r := c.Classify(classify.Input{Kind: dsn.KindBounce, Diagnostic: "550 This mailbox has been retired"})
	fmt.Println(r.Reason, r.Category)
	fmt.Println(r.Evidence)
	// Output:
	// suspend hard
	// user "mailbox has been retired" (rule mailbox has been retired suspend)
}

func ExampleEvidence_String() {
	e := classify.Evidence{Rule: classify.RuleStatus, Match: "5.2.2"}
	fmt.Println(e)
	// Output:
	// status "5.2.2"
}
