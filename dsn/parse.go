package dsn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	nettextproto "net/textproto"
	"sync"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // legacy charsets via golang.org/x/text
)

// Sentinel errors. Errors returned by Parse wrap one of them.
var (
	// ErrMalformed means the message could not be read as a message at all.
	ErrMalformed = errors.New("dsn: malformed message")
	// ErrLimit means a limit of Options was reached; the Report holds what
	// was read before it.
	ErrLimit = errors.New("dsn: limit reached")
	// ErrNoRecipient means the message is a bounce, but no failed
	// recipient could be told from it.
	ErrNoRecipient = errors.New("dsn: no recipient found in the bounce")
	// ErrRead means the message could not be read to its end (the reader
	// failed); the Report holds what was read, which may be incomplete.
	ErrRead = errors.New("dsn: read error")
	// ErrCharset means a part used a charset or transfer encoding that could
	// not be decoded; its raw bytes were used. The Report is complete
	// otherwise.
	ErrCharset = errors.New("dsn: unknown charset or encoding")
)

// errStop ends the walk early once everything needed has been read.
var errStop = errors.New("stop")

// Parse reads one message from r and returns what it reports.
//
// Parse never reads more than Options.MaxBytes from r and keeps at most
// Options.MaxTextBytes of text in memory: the body of a returned original is
// skipped, not stored. When a limit is reached, or a part is broken, Parse
// returns the partial Report together with an error wrapping ErrLimit,
// ErrMalformed or ErrCharset; the Report is never nil.
func Parse(r io.Reader, opts *Options) (rep *Report, err error) {
	var p *parser
	defer func() {
		// Every byte is hostile: a bug on some odd input must cost one
		// message, not the batch.
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: internal error: %v", ErrMalformed, v)
			rep = &Report{Kind: KindNotBounce}
			if p != nil && p.rep != nil {
				rep = p.rep
			}
		}
	}()
	return parse(r, opts, &p)
}

// parseNoRecover is Parse without its recover, so that fuzzing sees panics.
func parseNoRecover(r io.Reader, opts *Options) (*Report, error) {
	var p *parser
	return parse(r, opts, &p)
}

func parse(r io.Reader, opts *Options, pp **parser) (*Report, error) {
	o := opts.withDefaults()
	p := &parser{opts: o, rep: &Report{Kind: KindNotBounce}}
	*pp = p
	// The text buffers go back to a pool: finish copies what it keeps.
	p.notice = getText()
	defer func() { putText(p.notice); p.notice = nil }()
	p.src = &countingReader{r: io.LimitReader(r, o.MaxBytes)}
	lim := &limitReader{r: newLineEndReader(p.src), n: int64(o.MaxHeaderBytes)}
	br := getReader(lim, 16<<10)
	defer putReader(br)
	skipMboxFromLine(br)
	h, herr := readHeader(br)
	if lim.n <= 0 && herr != nil {
		p.addErr(fmt.Errorf("%w: header larger than %d bytes", ErrLimit, o.MaxHeaderBytes))
	}
	lim.n = 1 << 62
	if p.err != nil && h.Len() == 0 {
		return p.rep, p.err
	}
	if herr != nil && h.Len() == 0 {
		return p.rep, fmt.Errorf("%w: %v", ErrMalformed, herr)
	}
	p.top = message.Header{Header: h}
	p.readTopHeader()
	werr := p.walk(p.top, br, 0)
	if werr != nil && werr != errStop {
		p.addErr(werr)
	}
	if p.src.n >= o.MaxBytes {
		p.rep.Truncated = true
		p.addErr(fmt.Errorf("%w: message larger than %d bytes", ErrLimit, o.MaxBytes))
	}
	if p.src.err != nil {
		p.finish()
		return p.rep, fmt.Errorf("%w: %w", ErrRead, p.src.err)
	}
	if p.src.n == 0 {
		return p.rep, fmt.Errorf("%w: empty message", ErrMalformed)
	}
	p.finish()
	return p.rep, p.err
}

type parser struct {
	opts Options
	rep  *Report
	src  *countingReader
	top  message.Header
	err  error

	parts int

	notice []byte // human-readable text (UTF-8, LF)
	html   []byte // text/html, used when there is no plain text

	listNotice bool // a mailing-list manager's refusal
	// challengeText is whether the notice's text reads as a challenge:
	// 0 not searched yet, 1 yes, -1 no (challenge).
	challengeText int8
	// excludedAnchor: the text named an excluded address (the sender) as
	// a recipient; guessing from the original's To would then be wrong.
	excludedAnchor bool
	lower          *string // asciiLower of the notice body, see lowerBody
	lowerOf        string
	addrs          map[string]addrAt // addrIndex of addrsOf
	addrsOf        string
	heads          []section // the list headings of headsOf, see noticeSection
	headsOf        string
	bodyDiag       *string // diagnosticFrom of the notice body, see bodyDiagnostic
	bodyDiagOf     string
	tone           tone // noticeTone of toneOf
	toneOf         string
	toneSet        bool

	dsnSeen  bool // a delivery-status part was read
	arfSeen  bool // a feedback-report part was read
	origSeen bool // the original's header was read from a part
	perMsg   nettextproto.MIMEHeader
	blocks   fieldBlocks    // the per-recipient blocks of a delivery-status part
	lazy     *dsnRecipients // with Options.StreamRecipients, the recipients of blocks
	// Of the blocks' recipients, whether all are Google groups, and
	// whether one's diagnostic reads as a challenge (googleGroups,
	// challenge: the recipients may not be in Report.Recipients).
	blocksAllGroups, blocksChallenge bool
	// orphans are per-recipient fields that name no address (orphan.go).
	orphans  []nettextproto.MIMEHeader
	feedback nettextproto.MIMEHeader
	origHdr  message.Header
	// fwdHdr is the header of a bounce a person forwarded (attached, or
	// inline under "---------- Forwarded message ---------").
	fwdHdr message.Header
	// origNotice: the returned original is itself a notice (a bounce of
	// a bounce, a relayed report).
	origNotice bool
}

func (p *parser) addErr(err error) {
	if err == nil {
		return
	}
	if p.err == nil {
		p.err = err
	}
	if errors.Is(err, ErrLimit) {
		p.rep.Truncated = true
	}
}

// countingReader counts the bytes read, and remembers the first read
// error other than EOF: the parser reads leniently, so a source that fails
// (a connection dropped mid-message) must not pass for a short message.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// skipMboxFromLine drops an mbox "From " separator line at the very start.
func skipMboxFromLine(br *bufio.Reader) {
	if b, _ := br.Peek(5); string(b) == "From " {
		for {
			_, err := br.ReadSlice('\n')
			if err != bufio.ErrBufferFull {
				return
			}
		}
	}
}

// limitReader returns EOF once n bytes have been read; n can be raised
// again after a header has been read (go-message does the same).
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	return n, err
}

// Pools of bufio.Readers: a batch parses many small messages, and their
// buffers were most of the garbage.
var readerPools = map[int]*sync.Pool{4096: {}, 16 << 10: {}}

func getReader(r io.Reader, size int) *bufio.Reader {
	if pool, ok := readerPools[size]; ok {
		if br, ok := pool.Get().(*bufio.Reader); ok {
			br.Reset(r)
			return br
		}
	}
	return bufio.NewReaderSize(r, size)
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	if pool, ok := readerPools[br.Size()]; ok {
		pool.Put(br)
	}
}

// textPool recycles the buffers that collect a message's text.
var textPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func getText() []byte { return (*textPool.Get().(*[]byte))[:0] }

func putText(b []byte) {
	if cap(b) <= 1<<20 {
		textPool.Put(&b)
	}
}
