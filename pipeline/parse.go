package pipeline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strconv"
	"sync"

	"github.com/bouncer-dev/bouncer/dsn"
	"github.com/bouncer-dev/bouncer/mailsource"
)

// inlineMax is the size up to which a message is read into memory by the
// reader and handed to a worker whole; the rest of a larger message is
// streamed to the worker (dsn.Options.MaxBytes caps what it reads).
const inlineMax = 256 << 10

// ParseOptions configures Parse. The zero value, and a nil pointer, mean
// the defaults.
type ParseOptions struct {
	// Options gives the parser's limits (DSN), the classifier and the
	// number of workers; the rest of it is not used by Parse.
	Options
	// Format of the output; default FormatJSONL.
	Format Format
	// Explain adds the evidence of each classification.
	Explain bool
	// Stdin is read for the path "-"; Stderr receives one line per input
	// that cannot be read. Defaults: nothing to read, discard.
	Stdin  io.Reader
	Stderr io.Writer
}

// Parse reads the messages that paths name (files; folders, searched
// recursively, Maildirs included; mbox files, their N-th message named
// "PATH#N"; "-" for Stdin), and writes their records to w in the order of
// the inputs. It reports whether every input could be read (each failure
// is told on Stderr and gets a record with its error) and the error of
// writing w.
//
// One goroutine walks the paths, reads each message and queues it twice:
// for the workers, which parse, classify and encode, and for the writer,
// which waits for each in turn, so the output order is that of the inputs
// whatever the number of workers. The order queue bounds the messages in
// flight.
func Parse(paths []string, w io.Writer, opts *ParseOptions) (allRead bool, err error) {
	var o ParseOptions
	if opts != nil {
		o = *opts
	}
	p := &parser{
		workers:  o.Workers,
		format:   o.Format,
		explain:  o.Explain,
		classify: o.Classify,
		dsnOpts:  &o.DSN,
		stdin:    o.Stdin,
		stderr:   o.Stderr,
	}
	if p.stderr == nil {
		p.stderr = io.Discard
	}
	return p.run(paths, w)
}

// parser is the state of Parse.
type parser struct {
	workers  int        // 0 means runtime.GOMAXPROCS
	format   Format     // jsonl (default) or csv
	explain  bool       // add the evidence field
	classify Classifier // nil means classify.Classify
	dsnOpts  *dsn.Options
	// parse is dsn.Parse when nil; benchmarks replace it to measure the
	// pipeline alone.
	parse  func(io.Reader, *dsn.Options) (*dsn.Report, error)
	stdin  io.Reader
	stderr io.Writer
}

// parseJob is one message on its way through Parse.
type parseJob struct {
	source string
	data   []byte    // the message, or its first inlineMax bytes
	rest   io.Reader // the rest of a larger message, else nil
	closer io.Closer // closed by the worker once the message is parsed
	// readErr is set when the message could not be read at all.
	readErr error

	out    []byte // encoded records
	failed error  // a read failure, for stderr and the exit status
	done   chan struct{}
	br     bytes.Reader
}

var jobPool = sync.Pool{New: func() any { return &parseJob{done: make(chan struct{}, 1)} }}

func newJob(source string) *parseJob {
	j := jobPool.Get().(*parseJob)
	j.source = source
	return j
}

func releaseJob(j *parseJob) {
	if cap(j.data) > 2*inlineMax {
		j.data = nil
	}
	if cap(j.out) > 1<<20 {
		j.out = nil
	}
	*j = parseJob{data: j.data[:0], out: j.out[:0], done: j.done}
	jobPool.Put(j)
}

// errStop ends a walk when the writer has stopped.
var errStop = errors.New("stopped")

// run processes paths and writes the records to w. It reports whether every
// input could be read (each failure is also told on stderr), and the error
// of writing w.
func (p *parser) run(paths []string, w io.Writer) (allRead bool, err error) {
	workers := p.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	queue := max(64, 16*workers)
	jobs := make(chan *parseJob, queue)
	order := make(chan *parseJob, queue)
	quit := make(chan struct{})

	enc, err := NewEncoder(p.format, p.explain)
	if err != nil {
		return false, err
	}
	header := enc.Header()

	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wenc := enc
		if i > 0 {
			wenc, _ = NewEncoder(p.format, p.explain)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var recs []Record
			for j := range jobs {
				recs = p.process(j, wenc, recs)
			}
		}()
	}

	emit := func(j *parseJob) bool {
		select {
		case order <- j:
		case <-quit:
			if j.closer != nil {
				j.closer.Close()
			}
			releaseJob(j)
			return false
		}
		jobs <- j
		return true
	}
	go func() {
		p.produce(paths, emit)
		close(order)
		close(jobs)
	}()

	bw := bufio.NewWriterSize(w, 64<<10)
	_, werr := bw.Write(header)
	allRead = true
	for j := range order {
		<-j.done
		if j.failed != nil {
			allRead = false
			fmt.Fprintf(p.stderr, "bouncer: cannot read %s: %v\n", j.source, innerError(j.failed))
		}
		if werr == nil {
			if _, werr = bw.Write(j.out); werr != nil {
				close(quit)
			}
		}
		releaseJob(j)
	}
	wg.Wait()
	if werr == nil {
		werr = bw.Flush()
	}
	return allRead, werr
}

// innerError drops the path from a *fs.PathError, which the message names
// already.
func innerError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// process parses one job and encodes its records into j.out. recs is
// scratch space, returned for reuse.
func (p *parser) process(j *parseJob, enc Encoder, recs []Record) []Record {
	if j.readErr != nil {
		j.failed = j.readErr
		recs = Records(recs[:0], j.source, nil, j.readErr, p.classify)
	} else {
		j.br.Reset(j.data)
		var r io.Reader = &j.br
		var tr *trackReader
		if j.rest != nil {
			tr = &trackReader{r: j.rest}
			r = io.MultiReader(r, tr)
		}
		rep, err := safeParse(p.parse, r, p.dsnOpts)
		if j.closer != nil {
			j.closer.Close()
		}
		if tr != nil && tr.err != nil {
			j.failed = tr.err
			if err == nil {
				err = tr.err
			}
		}
		recs = parseRecords(recs[:0], j.source, rep, err, p.classify)
	}
	j.out = enc.Encode(j.out[:0], recs)
	clear(recs) // drop references to the report
	j.done <- struct{}{}
	return recs
}

// safeParse calls parse (nil: dsn.Parse) and turns a panic into an error,
// so that one message cannot stop the batch.
func safeParse(parse func(io.Reader, *dsn.Options) (*dsn.Report, error), r io.Reader, opts *dsn.Options) (rep *dsn.Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			rep, err = nil, fmt.Errorf("parser panic: %v", v)
		}
	}()
	if parse == nil {
		parse = dsn.Parse
	}
	return parse(r, opts)
}

// produce walks paths and emits one job per message, in order. It stops
// when emit returns false.
func (p *parser) produce(paths []string, emit func(*parseJob) bool) {
	for _, path := range paths {
		if path == "-" {
			if !p.readStdin(emit) {
				return
			}
			continue
		}
		err := mailsource.Walk(path, func(file string, err error) error {
			if err != nil {
				j := newJob(file)
				j.readErr = err
				if !emit(j) {
					return errStop
				}
				return nil
			}
			if !p.readFile(file, emit) {
				return errStop
			}
			return nil
		})
		if err != nil {
			return
		}
	}
}

// readFile emits the message of a file, or those of an mbox file.
func (p *parser) readFile(path string, emit func(*parseJob) bool) bool {
	j := newJob(path)
	complete, f, err := mailsource.ReadFileHead(path, &j.data, inlineMax)
	if err != nil {
		j.readErr = err
		return emit(j)
	}
	if mailsource.IsMbox(j.data) {
		var src io.Reader = bytes.NewReader(j.data)
		if !complete {
			src = io.MultiReader(src, f)
		}
		ok := p.readMbox(path, src, emit)
		if f != nil {
			f.Close()
		}
		releaseJob(j)
		return ok
	}
	if !complete {
		j.rest, j.closer = f, f
	}
	return emit(j)
}

// readStdin emits the message on standard input, or those of an mbox there.
func (p *parser) readStdin(emit func(*parseJob) bool) bool {
	stdin := p.stdin
	if stdin == nil {
		stdin = bytes.NewReader(nil)
	}
	br := bufio.NewReaderSize(stdin, 64<<10)
	head, err := br.Peek(len("From "))
	if err == nil && mailsource.IsMbox(head) {
		return p.readMbox("-", br, emit)
	}
	j := newJob("-")
	complete, err := mailsource.ReadHead(br, &j.data, inlineMax, 0)
	switch {
	case err != nil:
		j.readErr = fmt.Errorf("read standard input: %w", err)
	case !complete:
		j.rest = br
	}
	return emit(j)
}

// readMbox emits the messages of an mbox stream, named path#1, path#2…
func (p *parser) readMbox(path string, src io.Reader, emit func(*parseJob) bool) bool {
	mb := mailsource.NewMbox(src)
	for {
		msg, err := mb.Next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			j := newJob(path + "#" + strconv.Itoa(mb.Count()+1))
			j.readErr = err
			return emit(j)
		}
		j := newJob(path + "#" + strconv.Itoa(mb.Count()))
		complete, err := mailsource.ReadHead(msg, &j.data, inlineMax, 0)
		if err != nil {
			j.readErr = err
			return emit(j)
		}
		if complete {
			if !emit(j) {
				return false
			}
			continue
		}
		// A large message: stream the rest to the worker through a pipe.
		// The worker closes its end when done; what it did not read is
		// skipped by mb.Next.
		pr, pw := io.Pipe()
		j.rest, j.closer = pr, pr
		if !emit(j) {
			pw.Close()
			return false
		}
		if err := pump(pw, msg); err != nil {
			// The worker reports the error with this message.
			pw.CloseWithError(err)
			return true
		}
		pw.Close()
	}
}

// pump copies r to pw until r ends or the reader of pw goes away. It returns
// the read error of r.
func pump(pw *io.PipeWriter, r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := pw.Write(buf[:n]); werr != nil {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseRecords is what Parse prints for one message: its Records, with the
// notes of the job's rules (NoteUnconfirmed, NoteIncomplete).
func parseRecords(dst []Record, source string, rep *dsn.Report, err error, c Classifier) []Record {
	dst = Records(dst, source, rep, err, c)
	if rep != nil {
		judge(dst, newConfirmer(rep), nil)
		if rep.Truncated || errors.Is(err, dsn.ErrLimit) {
			markIncomplete(dst)
		}
	}
	return dst
}
