package classify

// This file holds the multi-pattern matcher: an Aho-Corasick automaton over
// bytes, built once from every phrase and run once over the lower-cased,
// whitespace-folded diagnostic. It is a small, dependency-free
// implementation (about a hundred lines) rather than a library: the only
// well-kept Go libraries for this (cloudflare/ahocorasick,
// petar-dambovaliev/aho-corasick) would add a module to go.mod for code that
// is short, and neither reports every overlapping match with its end offset
// the way the classifier needs.

// matcher is a dense Aho-Corasick automaton. States are numbered from 0 (the
// root); bytes are first mapped to classes (every byte that occurs in no
// pattern shares class 0), and next[s*width+class] is the state after reading
// the byte in state s, with failure links already folded in, so a search is
// two table lookups per byte and the table stays small.
type matcher struct {
	class [256]uint8
	width int
	next  []int32
	// out[s] lists the patterns that end in state s, including those
	// reached through failure links.
	out  [][]int32
	lens []int // length of each pattern, by pattern id
}

// newMatcher builds the automaton for pats; pattern i is reported as id i.
func newMatcher(pats []string) *matcher {
	type node struct {
		child map[uint8]int32
		fail  int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	m := &matcher{lens: make([]int, len(pats))}
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 && m.width < 255 {
				m.width++
				m.class[p[i]] = uint8(m.width)
			}
		}
	}
	m.width++
	w := m.width
	for id, p := range pats {
		m.lens[id] = len(p)
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]int32{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	m.next = make([]int32, len(nodes)*w)
	m.out = make([][]int32, len(nodes))
	// Breadth-first: a node's failure state is final before its children
	// are visited, so rows can be copied from it.
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < w; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok {
			m.next[c] = n
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		m.out[s] = append(append([]int32(nil), nodes[s].out...), m.out[f]...)
		for c := 0; c < w; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok {
				nodes[n].fail = m.next[int(f)*w+c]
				m.next[int(s)*w+c] = n
				queue = append(queue, n)
			} else {
				m.next[int(s)*w+c] = m.next[int(f)*w+c]
			}
		}
	}
	return m
}

// scan calls hit for every occurrence of every pattern in text, with the
// pattern id and the offset just past the occurrence. It stops early when
// hit returns false.
func (m *matcher) scan(text string, hit func(id int32, end int) bool) {
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = m.next[int(s)*m.width+int(m.class[text[i]])]
		for _, id := range m.out[s] {
			if !hit(id, i+1) {
				return
			}
		}
	}
}
