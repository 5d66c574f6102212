package classify

import "sort"

// This file holds the multi-pattern matcher: an Aho-Corasick automaton over
// bytes, built once from every phrase and run once over the lower-cased,
// whitespace-folded diagnostic. It is a small, dependency-free
// implementation rather than a library: the only well-kept Go libraries for
// this (cloudflare/ahocorasick, petar-dambovaliev/aho-corasick) would add a
// module to go.mod for code that is short, and neither reports every
// overlapping match with its end offset the way the classifier needs.

// matcher is an Aho-Corasick automaton with sparse transitions: the root
// has a full table (most bytes of a text restart there), every other state
// a sorted list of its edges, and failure links are followed at search
// time. Building it costs microseconds per phrase and little memory, which
// matters because every run of the program builds it.
type matcher struct {
	root [256]int32 // transitions of the root; 0 means the root itself
	// Edges of state s are edgeByte[first[s]:first[s+1]] (sorted) and the
	// states they lead to, edgeNext[…].
	first    []int32
	edgeByte []byte
	edgeNext []int32
	fail     []int32
	// out[s] lists the patterns that end exactly in state s; dict[s] is
	// the nearest state on s's failure chain with patterns (-1: none).
	out  [][]int32
	dict []int32
	lens []int // length of each pattern, by pattern id
}

// newMatcher builds the automaton for pats; pattern i is reported as id i.
func newMatcher(pats []string) *matcher {
	// The trie, with children as edge lists while it is built.
	type edge struct {
		b    byte
		next int32
	}
	children := [][]edge{nil}
	out := [][]int32{nil}
	m := &matcher{lens: make([]int, len(pats))}
	for id, p := range pats {
		m.lens[id] = len(p)
		s := int32(0)
		for i := 0; i < len(p); i++ {
			next := int32(-1)
			for _, e := range children[s] {
				if e.b == p[i] {
					next = e.next
					break
				}
			}
			if next < 0 {
				next = int32(len(children))
				children = append(children, nil)
				out = append(out, nil)
				children[s] = append(children[s], edge{p[i], next})
			}
			s = next
		}
		out[s] = append(out[s], int32(id))
	}
	n := len(children)
	m.first = make([]int32, n+1)
	for s, es := range children {
		sort.Slice(es, func(i, j int) bool { return es[i].b < es[j].b })
		m.first[s+1] = m.first[s] + int32(len(es))
		for _, e := range es {
			m.edgeByte = append(m.edgeByte, e.b)
			m.edgeNext = append(m.edgeNext, e.next)
		}
	}
	for _, e := range children[0] {
		m.root[e.b] = e.next
	}
	m.out = out
	m.fail = make([]int32, n)
	m.dict = make([]int32, n)
	m.dict[0] = -1
	// Breadth-first, so that a state's failure link is known before its
	// children's are computed.
	queue := make([]int32, 0, n)
	for _, e := range children[0] {
		m.dict[e.next] = -1
		queue = append(queue, e.next)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range children[s] {
			f := m.step(m.fail[s], e.b)
			m.fail[e.next] = f
			if len(m.out[f]) > 0 {
				m.dict[e.next] = f
			} else {
				m.dict[e.next] = m.dict[f]
			}
			queue = append(queue, e.next)
		}
	}
	return m
}

// child returns the state reached from s by byte b, or -1.
func (m *matcher) child(s int32, b byte) int32 {
	if s == 0 {
		if n := m.root[b]; n != 0 {
			return n
		}
		return -1
	}
	lo, hi := m.first[s], m.first[s+1]
	for lo < hi {
		mid := (lo + hi) / 2
		switch c := m.edgeByte[mid]; {
		case c == b:
			return m.edgeNext[mid]
		case c < b:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// step is the transition of the automaton: from s by b, through failure
// links when s has no edge for b.
func (m *matcher) step(s int32, b byte) int32 {
	for {
		if n := m.child(s, b); n >= 0 {
			return n
		}
		if s == 0 {
			return 0
		}
		s = m.fail[s]
	}
}

// scan calls hit for every occurrence of every pattern in text, with the
// pattern id and the offset just past the occurrence. It stops early when
// hit returns false.
func (m *matcher) scan(text string, hit func(id int32, end int) bool) {
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = m.step(s, text[i])
		for t := s; t >= 0; t = m.dict[t] {
			for _, id := range m.out[t] {
				if !hit(id, i+1) {
					return
				}
			}
			if t == 0 {
				break
			}
		}
	}
}
