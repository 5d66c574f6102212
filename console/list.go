package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/suppress"
)

// errBadFilter reports a filter of the list that cannot be read.
var errBadFilter = errors.New("console: bad filter")

// filter selects entries of the suppression list: the query string of the
// list page, its download and the API's list.
type filter struct {
	Category classify.Category
	Reason   classify.Reason
	Domain   string // the recipient's domain, or a parent domain of it
	Since    string // as bouncer export --since takes it: a date or 30d
	since    time.Time
	back     time.Duration
	Page     int // 1-based
	Per      int
}

// parseFilter reads the filter of r's query string.
func parseFilter(r *http.Request, per int) (filter, error) {
	q := r.URL.Query()
	f := filter{Domain: strings.ToLower(strings.TrimSpace(q.Get("domain"))), Since: strings.TrimSpace(q.Get("since")), Page: 1, Per: per}
	if c := q.Get("category"); c != "" {
		cs, err := suppress.ParseCategories(c)
		if err != nil || len(cs) != 1 {
			return f, fmt.Errorf("%w: category %q", errBadFilter, c)
		}
		f.Category = cs[0]
	}
	if rs := q.Get("reason"); rs != "" {
		f.Reason = classify.Reason(rs)
		if !f.Reason.Valid() {
			return f, fmt.Errorf("%w: reason %q", errBadFilter, rs)
		}
	}
	if f.Since != "" {
		var err error
		if f.since, f.back, err = suppress.ParseSince(f.Since); err != nil {
			return f, fmt.Errorf("%w: since: %v", errBadFilter, err)
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"page", &f.Page, 1 << 30}, {"per", &f.Per, MaxPageSize}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > p.max {
				return f, fmt.Errorf("%w: %s %q", errBadFilter, p.name, v)
			}
			*p.dst = n
		}
	}
	return f, nil
}

// apply returns the entries of l that f keeps, sorted by address: the
// suppressed addresses or, for category policy, the policy report too (as
// bouncer export --category policy writes it).
func (f filter) apply(l suppress.Lists) []suppress.Entry {
	base := l.Suppressed
	if f.Category == classify.CategoryPolicy {
		base = l.WithPolicy()
	}
	since := f.since
	if f.back > 0 {
		since = l.Now.Add(-f.back)
	}
	var out []suppress.Entry
	for _, e := range base {
		if f.Category != "" && e.Category != f.Category || f.Reason != "" && e.Reason != f.Reason {
			continue
		}
		if !since.IsZero() && e.LastBounce.Before(since) {
			continue
		}
		if f.Domain != "" {
			_, d, _ := strings.Cut(e.Address, "@")
			if d != f.Domain && !strings.HasSuffix(d, "."+f.Domain) {
				continue
			}
		}
		out = append(out, e)
	}
	if f.Category == classify.CategoryPolicy {
		slices.SortStableFunc(out, func(a, b suppress.Entry) int { return strings.Compare(a.Address, b.Address) })
	}
	return out
}

// page returns the entries of page f.Page and the number of pages.
func (f filter) page(es []suppress.Entry) ([]suppress.Entry, int) {
	pages := (len(es) + f.Per - 1) / f.Per
	lo := (f.Page - 1) * f.Per
	if lo >= len(es) {
		return nil, pages
	}
	return es[lo:min(lo+f.Per, len(es))], pages
}

// query returns f as a query string, with page p (0: none) and extra
// parameters.
func (f filter) query(p int, extra ...string) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"category", string(f.Category)}, {"reason", string(f.Reason)}, {"domain", f.Domain}, {"since", f.Since}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if p > 1 {
		v.Set("page", strconv.Itoa(p))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

// listURL returns path with the query string q (of url.Values.Encode,
// so escaped already) as a URL the templates take as it is.
func listURL(path, q string) template.URL {
	if q == "" {
		return template.URL(path)
	}
	return template.URL(path + "?" + q)
}

// listView is the data of the suppression list page.
type listView struct {
	Filter     filter
	Entries    []suppress.Entry
	Total      int
	Pages      int
	Prev, Next template.URL // the neighbouring pages; "" at an end
	Categories []classify.Category
	Reasons    []classify.Reason
	Downloads  []download
	Now        time.Time
	Note       string // what the console just did
}

// download is a link to the filtered list in one format.
type download struct {
	Format suppress.Format
	URL    template.URL
}

// suppressions shows the suppression list, filtered and paged.
func (s *Server) suppressions(w http.ResponseWriter, r *http.Request, q *request) {
	f, err := parseFilter(r, s.opts.PageSize)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	all := f.apply(snap.lists)
	v := &listView{Filter: f, Total: len(all), Categories: chartCategories, Reasons: snap.reasons, Now: snap.lists.Now,
		Note: r.URL.Query().Get("note")}
	v.Entries, v.Pages = f.page(all)
	if f.Page > 1 {
		v.Prev = listURL("/suppressions", f.query(f.Page-1))
	}
	if f.Page < v.Pages {
		v.Next = listURL("/suppressions", f.query(f.Page+1))
	}
	for _, fm := range suppress.Formats() {
		v.Downloads = append(v.Downloads, download{Format: fm, URL: listURL("/suppressions/download", f.query(0, "format", string(fm)))})
	}
	s.renderAs(w, r, http.StatusOK, "suppressions", q, v)
}

// download writes the filtered list as a CSV file in the format asked
// for, with the code of bouncer export (suppress.WriteCSV).
func (s *Server) download(w http.ResponseWriter, r *http.Request, q *request) {
	f, err := parseFilter(r, s.opts.PageSize)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	format, err := suppress.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	snap, err := s.snap.get(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="suppressions-%s.csv"`, format))
	if err := suppress.WriteCSV(w, format, f.apply(snap.lists)); err != nil {
		s.opts.Log.Printf("console: download: %v", err)
	}
}
