package classify

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bouncer-dev/bouncer/internal/smtpcode"
)

// part is one piece of a phrase: the bytes to find and whether a word
// boundary is needed before and after them.
type part struct {
	s          string
	start, end bool // word boundary needed at the start, at the end
}

// phrase is one entry of a phrase table, compiled.
type phrase struct {
	reason Reason
	strong bool   // a provider's own wording: it beats every other phrase
	weak   bool   // a broad word: it decides only when nothing else did
	rank   int    // index of reason in reasonOrder
	parts  []part // one, or several in order
}

// phraseSet is a phrase table compiled into one automaton.
type phraseSet struct {
	phrases []phrase
	m       *matcher
	// users[id] lists, for pattern id of the automaton, the phrases and
	// the index of the part that pattern is.
	users [][]partRef
}

type partRef struct {
	phrase int32
	part   int32
}

// maxGap is the most bytes a phrase of several parts allows between two
// of its parts: the parts must stand in one sentence.
const maxGap = 48

// hit is one phrase found in a text: text[start:end].
type hit struct {
	phrase     int32
	start, end int
}

var rankOf = func() map[Reason]int {
	if len(reasonOrder) > maxRanks {
		panic("classify: reasonOrder longer than maxRanks")
	}
	m := make(map[Reason]int, len(reasonOrder))
	for i, r := range reasonOrder {
		m[r] = i
	}
	return m
}()

// builtinSet compiles the phrase table into its automaton the first time a
// message is classified, not when a program that may never classify (bouncer
// help, export) starts.
var builtinSet = sync.OnceValue(func() *phraseSet {
	var ps []phrase
	for _, r := range reasonOrder {
		for _, p := range phraseTable[r] {
			ps = append(ps, compilePhrase(r, p))
		}
	}
	return newPhraseSet(ps)
})

// compilePhrase reads the "*" and "|" marks of a table entry.
func compilePhrase(r Reason, p string) phrase {
	ph := phrase{reason: r, rank: rankOf[r]}
	if strings.HasPrefix(p, "!") {
		ph.strong, p = true, p[1:]
	}
	if strings.HasPrefix(p, "?") {
		ph.weak, p = true, p[1:]
	}
	for _, s := range strings.Split(p, "*") {
		pt := part{}
		if strings.HasPrefix(s, "|") {
			pt.start, s = true, s[1:]
		}
		if strings.HasSuffix(s, "|") {
			pt.end, s = true, s[:len(s)-1]
		}
		if s == "" {
			continue
		}
		pt.s = s
		ph.parts = append(ph.parts, pt)
	}
	return ph
}

func newPhraseSet(ps []phrase) *phraseSet {
	set := &phraseSet{phrases: ps}
	ids := map[string]int32{}
	var pats []string
	for i, p := range ps {
		for j, pt := range p.parts {
			id, ok := ids[pt.s]
			if !ok {
				id = int32(len(pats))
				ids[pt.s] = id
				pats = append(pats, pt.s)
				set.users = append(set.users, nil)
			}
			set.users[id] = append(set.users[id], partRef{int32(i), int32(j)})
		}
	}
	set.m = newMatcher(pats)
	return set
}

// isWordByte reports whether b belongs to a word for the "|" mark. Bytes of
// multi-byte UTF-8 sequences count as word bytes.
func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

func boundaryOK(text string, start, end int, pt part) bool {
	if pt.start && start > 0 && isWordByte(text[start-1]) {
		return false
	}
	if pt.end && end < len(text) && isWordByte(text[end]) {
		return false
	}
	return true
}

// find returns the phrases of set found in text, already lower-cased and
// folded by normalize, in one pass of the automaton. A phrase of several
// parts is confirmed, after the pass, by looking for its later parts after
// the first.
func (set *phraseSet) find(text string, buf []hit) []hit {
	hits := buf[:0]
	var multi []hit // first parts of phrases with more than one part
	set.m.scan(text, func(id int32, end int) bool {
		for _, ref := range set.users[id] {
			p := &set.phrases[ref.phrase]
			pt := p.parts[ref.part]
			start := end - len(pt.s)
			if !boundaryOK(text, start, end, pt) {
				continue
			}
			switch {
			case len(p.parts) == 1:
				hits = append(hits, hit{ref.phrase, start, end})
			case ref.part == 0:
				seen := false
				for _, h := range multi {
					if h.phrase == ref.phrase {
						seen = true
						break
					}
				}
				if !seen {
					multi = append(multi, hit{ref.phrase, start, end})
				}
			}
		}
		return len(hits) < 256
	})
	for _, h := range multi {
		p := &set.phrases[h.phrase]
		// Try the first few places of the first part: the later parts
		// must follow one of them closely.
		for try := 0; try < 4 && h.start >= 0; try++ {
			if end, ok := p.rest(text, h.end); ok {
				hits = append(hits, hit{h.phrase, h.start, end})
				break
			}
			h.start, h.end = nextPart(text, h.end, p.parts[0])
		}
	}
	// Where one phrase lies inside a longer one, the longer one speaks.
	// Only phrases of one part hide others: the span of a phrase of
	// several parts covers words that are not its own.
	kept := hits[:0]
	for i, h := range hits {
		inside := false
		for j, o := range hits {
			if i != j && len(set.phrases[o.phrase].parts) == 1 && o.start <= h.start && h.end <= o.end && o.end-o.start > h.end-h.start {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, h)
		}
	}
	return kept
}

// rest finds the parts of p after the first, in order, starting at pos,
// each within maxGap bytes of the one before; it returns the end of the
// last.
func (p *phrase) rest(text string, pos int) (int, bool) {
	for _, pt := range p.parts[1:] {
		i := strings.Index(text[pos:], pt.s)
		if i < 0 || i > maxGap || !boundaryOK(text, pos+i, pos+i+len(pt.s), pt) {
			return 0, false
		}
		pos += i + len(pt.s)
	}
	return pos, true
}

// nextPart returns the next place of pt in text at or after from, or -1.
func nextPart(text string, from int, pt part) (start, end int) {
	for from <= len(text) {
		i := strings.Index(text[from:], pt.s)
		if i < 0 {
			break
		}
		start, end = from+i, from+i+len(pt.s)
		if boundaryOK(text, start, end, pt) {
			return start, end
		}
		from = start + 1
	}
	return -1, -1
}

// evidence is what the phrase pass found: for each rank of reasonOrder,
// the best hit (longest) of that reason.
type evidence struct {
	best [maxRanks]int32 // phrase index+1, 0 when none
	span [maxRanks][2]int32
	// strong is the best strong phrase (index+1), if any matched.
	strong     int32
	strongSpan [2]int32
	// weak and weakSpan hold, by rank, the weak phrases.
	weak     [maxRanks]int32
	weakSpan [maxRanks][2]int32
}

// maxRanks bounds the length of reasonOrder, so that evidence needs no
// allocation.
const maxRanks = 48

func (set *phraseSet) collect(text string) evidence {
	var buf [32]hit
	var ev evidence
	for _, h := range set.find(text, buf[:0]) {
		p := &set.phrases[h.phrase]
		if p.strong {
			if ev.strong == 0 || p.rank < set.phrases[ev.strong-1].rank {
				ev.strong = h.phrase + 1
				ev.strongSpan = [2]int32{int32(h.start), int32(h.end)}
			}
			continue
		}
		rk := p.rank
		best, span := &ev.best, &ev.span
		if p.weak {
			best, span = &ev.weak, &ev.weakSpan
		}
		if b := best[rk]; b == 0 || int32(h.end-h.start) > span[rk][1]-span[rk][0] {
			best[rk] = h.phrase + 1
			span[rk] = [2]int32{int32(h.start), int32(h.end)}
		}
	}
	return ev
}

func (ev *evidence) has(r Reason) bool { return ev.best[rankOf[r]] != 0 }

// words returns the matched text of r, cut to a readable length.
func (ev *evidence) words(text string, r Reason) string {
	sp := ev.span[rankOf[r]]
	return cut(text[sp[0]:sp[1]])
}

// cut shortens the words of an explanation to a readable length.
func cut(w string) string {
	if len(w) > 80 {
		w = w[:77]
		for len(w) > 0 && !utf8.ValidString(w) {
			w = w[:len(w)-1]
		}
		w += "..."
	}
	return w
}

// normalize lower-cases s and the extra strings, folds every run of white
// space into one space, turns typographic apostrophes and full-width ASCII
// into ASCII, and
// drops the "550-5.7.1 " prefixes of multi-line SMTP replies that are
// joined into one line, so that phrases match across the line breaks.
func normalize(s string, extra ...string) string {
	n := len(s)
	for _, e := range extra {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	space := true // at a token start; also suppresses leading space
	add := func(s string) {
		for i := 0; i < len(s); {
			c := s[i]
			if c < utf8.RuneSelf {
				switch {
				case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0:
					if !space {
						b = append(b, ' ')
						space = true
					}
					i++
					continue
				case space && c >= '2' && c <= '5' && len(b) > 0:
					if n := replyPrefix(s[i:]); n > 0 {
						i += n
						continue
					}
				case c >= 'A' && c <= 'Z':
					c += 'a' - 'A'
				}
				b = append(b, c)
				space = false
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			switch r {
			case '\u2019', '\u2018', '\u02bc':
				r = '\''
			case '\u00a0', '\u3000':
				if !space {
					b = append(b, ' ')
					space = true
				}
				continue
			}
			if r >= '\uff01' && r <= '\uff5e' {
				// Full-width ASCII, as Japanese notices write it.
				r -= 0xfee0
				if r >= 'A' && r <= 'Z' {
					r += 'a' - 'A'
				}
				b = append(b, byte(r))
				space = false
				continue
			}
			b = utf8.AppendRune(b, unicode.ToLower(r))
			space = false
		}
	}
	add(s)
	for _, e := range extra {
		if e == "" {
			continue
		}
		if !space {
			b = append(b, ' ')
			space = true
		}
		add(e)
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b)
}

// replyPrefix returns the length of the reply prefix at the start of s
// that normalize drops inside a text: "ddd-" (a continued line of a
// multi-line reply), with the enhanced code after it if any, or "ddd
// x.y.z " (the last line of such a reply). It returns 0 for anything else.
func replyPrefix(s string) int {
	if len(s) < 4 || !isDigit(s[1]) || !isDigit(s[2]) || (s[3] != '-' && s[3] != ' ') {
		return 0
	}
	n := 4
	c, l := statusAt(s[n:])
	if s[3] == ' ' && c == "" {
		return 0
	}
	n += l
	for n < len(s) && (s[n] == ' ' || s[n] == '\t' || s[n] == '\n' || s[n] == '\r') {
		n++
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// statusAt is smtpcode.StatusAt.
func statusAt(s string) (string, int) { return smtpcode.StatusAt(s) }

// statusCode returns the code part of a Status field ("5.1.1" of "5.1.1
// (user unknown)"), or "" when it holds none.
func statusCode(s string) string {
	s = strings.TrimSpace(s)
	c, _ := statusAt(s)
	return c
}

// statusComment returns what follows the code in a Status field.
func statusComment(s string) string {
	s = strings.TrimSpace(s)
	_, n := statusAt(s)
	if n == 0 {
		return ""
	}
	return strings.TrimSpace(s[n:])
}

// codesIn finds the first reply code and the first enhanced status code of
// a failure (4yz, 5yz; RFC 5321, RFC 3463) written in a diagnostic ("550
// 5.1.1 …", "#5.1.1", "(#4.4.1)"). Codes of success count only when the
// text holds no failure code and they open a line or follow a colon, and
// are followed by text (not a number ending a line, as "Size: 222"), since
// a "250 ok" inside a transcript is what went right before the error.
func codesIn(text string) (reply, status string) {
	var okReply, okStatus string
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < '2' || c > '5' {
			continue
		}
		if i > 0 {
			switch text[i-1] {
			case ' ', '\t', '\n', '\r', '#', '(', '[', ':', ';', '<', '-', '=', '"', '\'':
			default:
				continue
			}
		}
		fail := c == '4' || c == '5'
		lineStart := !fail && (atLineStart(text, i) || hasSuffixFold(text[:i], ": "))
		if s, _ := statusAt(text[i:]); s != "" {
			if !smtpcode.InContext(text, i) {
				continue
			}
			switch {
			case fail && status == "":
				status = s
			case !fail && okStatus == "" && lineStart:
				okStatus = s
			}
			continue
		}
		if i+3 <= len(text) && isDigit(text[i+1]) && isDigit(text[i+2]) && text[i+1] <= '5' &&
			(i+3 == len(text) || strings.IndexByte(" \t\r\n-)]:", text[i+3]) >= 0) &&
			(i == 0 || !isDigit(text[i-1])) && !inNumber(text, i) {
			switch {
			case fail && reply == "":
				reply = text[i : i+3]
			case !fail && okReply == "" && lineStart && i+3 < len(text) && (text[i+3] == ' ' || text[i+3] == '-'):
				okReply = text[i : i+3]
			}
		}
		if reply != "" && status != "" {
			return reply, status
		}
	}
	if reply == "" && status == "" {
		return okReply, okStatus
	}
	return reply, status
}

// inNumber reports whether the three digits at text[i] are a group of a
// longer number written with hyphens, a telephone number ("+1 925-550-5635")
// or a date, not a reply code: a digit and a hyphen before them, or a
// hyphen and a digit after them that is not a status code's
// ("550-5.1.1" is a multi-line reply).
func inNumber(text string, i int) bool {
	if i >= 2 && text[i-1] == '-' && isDigit(text[i-2]) {
		return true
	}
	return i+4 < len(text) && text[i+3] == '-' && isDigit(text[i+4]) && !(i+5 < len(text) && text[i+5] == '.')
}

// atLineStart reports whether only blanks stand between the start of the
// line and text[i].
func atLineStart(text string, i int) bool {
	for i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
		i--
	}
	return i == 0 || text[i-1] == '\n' || text[i-1] == '\r'
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
