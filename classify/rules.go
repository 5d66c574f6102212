package classify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Sentinel errors, wrapped with the details; check them with errors.Is.
var (
	// ErrBadRule is returned for a rule with an unknown reason token or an
	// invalid pattern.
	ErrBadRule = errors.New("classify: bad rule")
)

// Rule is one of the user's own rules: when the diagnostic contains
// Phrase, or matches Regexp, the reason is Reason.
type Rule struct {
	// Phrase is matched without regard to case or to runs of white space.
	Phrase string
	// Regexp, when Phrase is empty, is an RE2 expression (package regexp)
	// matched against the diagnostic lower-cased and with its white
	// space folded to single spaces.
	Regexp string
	Reason Reason
	// Line is the line of the rules file the rule came from, for errors
	// and explanations; 0 for rules built in code.
	Line int
}

// String renders r in the rules file format.
func (r Rule) String() string {
	if r.Phrase != "" {
		return r.Phrase + " " + string(r.Reason)
	}
	return "/" + r.Regexp + "/ " + string(r.Reason)
}

// ParseRules reads a rules file. The format, one rule per line:
//
//	# a comment; blank lines are ignored
//	mailbox has been retired        suspend
//	/quota (is )?exceeded/          mailboxfull
//
// The last white-space separated field of a line is the reason token (one
// of the 36 of the taxonomy: userunknown, mailboxfull, blocked, …); what
// comes before it is the pattern. A pattern between slashes is a regular
// expression (RE2 syntax, matched against the lower-cased diagnostic whose
// white space is folded to single spaces); any other pattern is a phrase,
// matched without regard to case or runs of white space. A line whose first
// non-blank character is "#" is a comment; elsewhere "#" belongs to the
// pattern ("no mailbox (#5.1.1) here"). The rules apply in file order, the
// first that matches deciding, before every built-in rule. Errors wrap
// ErrBadRule and name the line.
func ParseRules(r io.Reader) ([]Rule, error) {
	var rules []Rule
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	n := 0
	for sc.Scan() {
		n++
		pat, tok, ok, err := ruleLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadRule, n, err)
		}
		if !ok {
			continue
		}
		rule := Rule{Reason: Reason(strings.ToLower(tok)), Line: n}
		if len(pat) >= 2 && pat[0] == '/' && pat[len(pat)-1] == '/' {
			rule.Regexp = pat[1 : len(pat)-1]
		} else {
			rule.Phrase = pat
		}
		if err := rule.check(); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadRule, n, err)
		}
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("classify: reading rules: line %d: %w", n+1, err)
	}
	return rules, nil
}

// ruleLine splits a line of a rules file into its pattern and its reason
// token; ok is false for a blank line or a comment.
func ruleLine(line string) (pat, tok string, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", false, nil
	}
	i := strings.LastIndexAny(line, " \t")
	if i < 0 {
		return "", "", false, fmt.Errorf("want a pattern and a reason, got %q", line)
	}
	return strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:]), true, nil
}

// check says what is wrong with r, if anything; the callers wrap it with
// ErrBadRule and the place of the rule.
func (r Rule) check() error {
	if !r.Reason.Valid() {
		return fmt.Errorf("unknown reason %q", r.Reason)
	}
	switch {
	case r.Phrase != "":
		if normalize(r.Phrase) == "" {
			return errors.New("empty phrase")
		}
	case r.Regexp != "":
		if _, err := regexp.Compile(r.Regexp); err != nil {
			return err
		}
	default:
		return errors.New("empty pattern")
	}
	return nil
}

// userRules is a compiled rule list: phrases in one automaton, regular
// expressions compiled once.
type userRules struct {
	rules   []Rule
	phrases *phraseSet // phrase i is rule phraseRule[i]
	which   []int
	regexps []*regexp.Regexp // by rule index; nil for phrases
}

func compileRules(rules []Rule) (*userRules, error) {
	u := &userRules{rules: rules, regexps: make([]*regexp.Regexp, len(rules))}
	var ps []phrase
	for i, r := range rules {
		if err := r.check(); err != nil {
			if r.Line > 0 {
				return nil, fmt.Errorf("%w: line %d: %v", ErrBadRule, r.Line, err)
			}
			return nil, fmt.Errorf("%w: rule %d: %v", ErrBadRule, i+1, err)
		}
		if r.Phrase != "" {
			ps = append(ps, phrase{reason: r.Reason, rank: i, parts: []part{{s: normalize(r.Phrase)}}})
			u.which = append(u.which, i)
			continue
		}
		u.regexps[i] = regexp.MustCompile(r.Regexp)
	}
	if len(ps) > 0 {
		u.phrases = newPhraseSet(ps)
	}
	return u, nil
}

// match returns the result of the first rule, in file order, that matches
// text.
func (u *userRules) match(text string) (Result, bool) {
	first, words := -1, ""
	if u.phrases != nil {
		var buf [8]hit
		for _, h := range u.phrases.find(text, buf[:0]) {
			if i := u.which[h.phrase]; first < 0 || i < first {
				first, words = i, text[h.start:h.end]
			}
		}
	}
	for i, re := range u.regexps {
		if re == nil || first >= 0 && i > first {
			continue
		}
		if loc := re.FindStringIndex(text); loc != nil {
			first, words = i, text[loc[0]:loc[1]]
			break
		}
	}
	if first < 0 {
		return Result{}, false
	}
	r := u.rules[first]
	return result(r.Reason, RuleUser, words, "rule "+r.String()), true
}
