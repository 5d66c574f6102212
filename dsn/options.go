package dsn

// Default limits. Each is used when the matching Options field is zero.
const (
	// DefaultMaxBytes caps the bytes read from one message. Past it the parse
	// stops and the Report is marked Truncated.
	DefaultMaxBytes = 512 << 20
	// DefaultMaxHeaderBytes caps the bytes of one header section.
	DefaultMaxHeaderBytes = 256 << 10
	// DefaultMaxParts caps the MIME parts visited in one message.
	DefaultMaxParts = 500
	// DefaultMaxDepth caps MIME nesting depth.
	DefaultMaxDepth = 16
	// DefaultMaxRecipients caps the recipients kept from one report: as
	// many as the linear parser reads in reasonable time and memory (a
	// report naming 50,000 recipients is read whole).
	DefaultMaxRecipients = 1_000_000
	// DefaultMaxTextBytes caps the bytes of human-readable text kept for
	// analysis (the notice of a free-text bounce).
	DefaultMaxTextBytes = 512 << 10
)

// Options tunes Parse. The zero value, and a nil *Options, mean the defaults.
//
// A few limits are fixed, being far above what any real bounce needs: a
// field of a report part is cut at 64 KiB (continuation lines included) and
// a block of fields keeps 200 of them; a multipart whose boundary is never
// found is read as text, up to MaxTextBytes; a diagnostic taken from a
// notice's text is at most MaxDiagnosticBytes; the returned original keeps
// at most 200 of its header fields in Original.Header.
type Options struct {
	MaxBytes       int64 // bytes read per message (DefaultMaxBytes)
	MaxHeaderBytes int   // bytes per header section (DefaultMaxHeaderBytes)
	MaxParts       int   // MIME parts per message (DefaultMaxParts)
	MaxDepth       int   // MIME nesting depth (DefaultMaxDepth)
	MaxRecipients  int   // recipients per report (DefaultMaxRecipients)
	MaxTextBytes   int   // notice text kept for analysis (DefaultMaxTextBytes)
	// StreamRecipients leaves the recipients of a delivery-status part
	// out of Report.Recipients: Report.All builds them one at a time, when
	// asked, from the part's fields kept compactly (about the size of the
	// part, plus some 100 bytes a recipient), so that a report naming a
	// million recipients is read in a fraction of the memory. Report.Len
	// counts them. The recipients are the same, in the same order.
	StreamRecipients bool
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.MaxBytes <= 0 {
		v.MaxBytes = DefaultMaxBytes
	}
	if v.MaxHeaderBytes <= 0 {
		v.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if v.MaxParts <= 0 {
		v.MaxParts = DefaultMaxParts
	}
	if v.MaxDepth <= 0 {
		v.MaxDepth = DefaultMaxDepth
	}
	if v.MaxRecipients <= 0 {
		v.MaxRecipients = DefaultMaxRecipients
	}
	if v.MaxTextBytes <= 0 {
		v.MaxTextBytes = DefaultMaxTextBytes
	}
	return v
}
