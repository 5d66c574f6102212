package dsn

import (
	"encoding/binary"
	"hash/maphash"
	"iter"
	"net/textproto"
	"strings"
)

// fieldBlocks holds the per-recipient blocks of a delivery-status part
// compactly: each block's fields as a key code (or a length-prefixed key)
// and a length-prefixed value, in chunks of memory that are never copied
// to grow, instead of a map per block (a report naming a million
// recipients would take about 450 bytes more each).
type fieldBlocks struct {
	chunks [][]byte
	start  []uint64 // per block: chunk<<32 | offset
}

// blockChunk is the size of a chunk of fieldBlocks; a larger block gets a
// chunk of its own.
const blockChunk = 1 << 20

// commonKeys are the keys of a per-recipient block (RFC 3464 section
// 2.3) stored as their index+1 instead of their text.
var commonKeys = []string{"Final-Recipient", "Original-Recipient", "Action", "Status", "Diagnostic-Code",
	"Remote-Mta", "Last-Attempt-Date", "X-Actual-Recipient", "Will-Retry-Until", "Final-Log-Id", "X-Postfix-Sender"}

func keyCode(k string) byte {
	for i, c := range commonKeys {
		if c == k {
			return byte(i + 1)
		}
	}
	return 0
}

func (b *fieldBlocks) len() int { return len(b.start) }

// add appends a block.
func (b *fieldBlocks) add(f textproto.MIMEHeader) {
	var enc []byte
	for k, vs := range f {
		for _, v := range vs {
			c := keyCode(k)
			enc = append(enc, c)
			if c == 0 {
				enc = binary.AppendUvarint(enc, uint64(len(k)))
				enc = append(enc, k...)
			}
			enc = binary.AppendUvarint(enc, uint64(len(v)))
			enc = append(enc, v...)
		}
	}
	n := len(b.chunks)
	if n == 0 || len(b.chunks[n-1])+len(enc) > cap(b.chunks[n-1]) {
		b.chunks = append(b.chunks, make([]byte, 0, max(blockChunk, len(enc))))
		n++
	}
	c := &b.chunks[n-1]
	b.start = append(b.start, uint64(n-1)<<32|uint64(len(*c)))
	*c = append(*c, enc...)
}

// data returns the bytes of block i.
func (b *fieldBlocks) data(i int) []byte {
	chunk, off := int(b.start[i]>>32), int(b.start[i]&(1<<32-1))
	end := len(b.chunks[chunk])
	if i+1 < len(b.start) && int(b.start[i+1]>>32) == chunk {
		end = int(b.start[i+1] & (1<<32 - 1))
	}
	return b.chunks[chunk][off:end]
}

// get decodes block i.
func (b *fieldBlocks) get(i int) textproto.MIMEHeader {
	data := b.data(i)
	f := textproto.MIMEHeader{}
	for len(data) > 0 {
		var k, v string
		if c := data[0]; c > 0 && int(c) <= len(commonKeys) {
			k, data = commonKeys[c-1], data[1:]
		} else {
			k, data = readPrefixed(data[1:])
		}
		v, data = readPrefixed(data)
		f[k] = append(f[k], v)
	}
	return f
}

// replaceLast replaces the last block with f.
func (b *fieldBlocks) replaceLast(f textproto.MIMEHeader) {
	n := len(b.start) - 1
	chunk, off := int(b.start[n]>>32), int(b.start[n]&(1<<32-1))
	b.chunks[chunk] = b.chunks[chunk][:off]
	b.start = b.start[:n]
	b.add(f)
}

// readPrefixed reads a length-prefixed string from data.
func readPrefixed(data []byte) (string, []byte) {
	n, w := binary.Uvarint(data)
	if w <= 0 || n > uint64(len(data)-w) {
		return "", nil // cannot happen: add wrote it
	}
	return string(data[w : w+int(n)]), data[w+int(n):]
}

// dsnRecipients holds what is needed to build the recipients of an RFC
// 3464 report from its blocks, once per recipient, when they are asked for
// (Report.All) instead of all at once (Options.StreamRecipients).
type dsnRecipients struct {
	p    *parser
	body string
	// pick is, per recipient in the order of first appearance, the block
	// that describes it (of several for one address, the one that says
	// most).
	pick []int32
	// forward is the index in pick of the one failed recipient of a
	// report that came back to the VERP address verp (verpOverForward),
	// -1 for none.
	forward int
	verp    string
}

// all yields the recipients.
func (d *dsnRecipients) all() iter.Seq[Recipient] {
	return func(yield func(Recipient) bool) {
		for n, i := range d.pick {
			r, _ := d.p.blockRecipient(d.p.blocks.get(int(i)), d.body)
			if n == d.forward {
				forwardTo(&r, d.verp)
			}
			if !yield(r) {
				return
			}
		}
	}
}

// lowerKey is the key that finds one recipient's blocks.
func lowerKey(addr string) string { return strings.ToLower(addr) }

// addrIndex finds the recipient of an address among many, by a seeded
// hash of the address (some 20 bytes a recipient instead of the address
// itself); a hash met for another address, which the caller tells
// (addrOf), goes to a map of its own, so that two addresses are never
// taken for one.
type addrIndex struct {
	seed    maphash.Seed
	byHash  map[uint64]int32
	collide map[string]int
}

func newAddrIndex() *addrIndex {
	return &addrIndex{seed: maphash.MakeSeed(), byHash: map[uint64]int32{}}
}

// find returns the recipient of key; addrOf(j) is the key of recipient j.
func (x *addrIndex) find(key string, addrOf func(int) string) (int, bool) {
	if j, ok := x.collide[key]; ok {
		return j, true
	}
	j, ok := x.byHash[maphash.String(x.seed, key)]
	if ok && addrOf(int(j)) == key {
		return int(j), true
	}
	return 0, false
}

// add records that recipient j has key (not found by find).
func (x *addrIndex) add(key string, j int) {
	h := maphash.String(x.seed, key)
	if _, taken := x.byHash[h]; taken {
		if x.collide == nil {
			x.collide = map[string]int{}
		}
		x.collide[key] = j
		return
	}
	x.byHash[h] = int32(j)
}
