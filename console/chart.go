package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

// Chart geometry, in SVG user units; the stylesheet scales the chart to
// its box.
const (
	chartWidth  = 720
	chartHeight = 220
	chartLeft   = 48 // room for the y labels
	chartBottom = 24 // room for the x labels
	chartTop    = 8
)

// niceMax rounds n up to 1, 2 or 5 times a power of ten, so that the y
// axis reads well; at least 1.
func niceMax(n int) int {
	if n <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// svgFrame writes the opening of a chart: the svg element with its title
// and description for screen readers, the y axis's gridlines and labels
// (0, half, max) and the first, middle and last day under the x axis.
func svgFrame(b *strings.Builder, id, title, desc string, max int, days []time.Time) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, chartHeight, id, id)
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, html.EscapeString(title), id, html.EscapeString(desc))
	plotH := chartHeight - chartTop - chartBottom
	for _, v := range []int{0, max / 2, max} {
		y := chartTop + plotH - plotH*v/max
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%d" y2="%d"/>`, chartLeft, chartWidth, y, y)
		fmt.Fprintf(b, `<text class="axis" x="%d" y="%d" text-anchor="end">%d</text>`, chartLeft-4, y+4, v)
	}
	if len(days) == 0 {
		return
	}
	plotW := chartWidth - chartLeft
	for _, i := range []int{0, len(days) / 2, len(days) - 1} {
		x := chartLeft + plotW*i/len(days) + plotW/len(days)/2
		fmt.Fprintf(b, `<text class="axis" x="%d" y="%d" text-anchor="middle">%s</text>`, x, chartHeight-6, days[i].Format("Jan 2"))
	}
}

// barChart draws the bounces of each day as bars stacked by category.
func barChart(days []dayCount) template.HTML {
	var b strings.Builder
	max, total := 0, 0
	ds := make([]time.Time, len(days))
	for i, d := range days {
		ds[i] = d.Day
		total += d.Total
		if d.Total > max {
			max = d.Total
		}
	}
	max = niceMax(max)
	desc := fmt.Sprintf("%d bounces over %d days, stacked by category; the table beside it has the numbers", total, len(days))
	svgFrame(&b, "bounces", "Bounces per day by category", desc, max, ds)
	plotW, plotH := chartWidth-chartLeft, chartHeight-chartTop-chartBottom
	barW := float64(plotW) / float64(max1(len(days)))
	for i, d := range days {
		x := float64(chartLeft) + barW*float64(i)
		y := float64(chartTop + plotH)
		for _, c := range chartCategories {
			n := d.Count[c]
			if n == 0 {
				continue
			}
			h := float64(plotH) * float64(n) / float64(max)
			y -= h
			fmt.Fprintf(&b, `<rect class="c-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d %s</title></rect>`,
				c, x+0.5, y, barW-1, h, d.Day.Format(time.DateOnly), n, c)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// lineChart draws the suppression list's size at the end of each day.
func lineChart(points []sizePoint) template.HTML {
	var b strings.Builder
	max := 0
	ds := make([]time.Time, len(points))
	for i, p := range points {
		ds[i] = p.Day
		if p.Size > max {
			max = p.Size
		}
	}
	max = niceMax(max)
	last := 0
	if len(points) > 0 {
		last = points[len(points)-1].Size
	}
	desc := fmt.Sprintf("the suppression list's size at the end of each of %d days, %d at the end; the table beside it has the numbers", len(points), last)
	svgFrame(&b, "sizes", "Suppression list size", desc, max, ds)
	plotW, plotH := chartWidth-chartLeft, chartHeight-chartTop-chartBottom
	step := float64(plotW) / float64(max1(len(points)))
	b.WriteString(`<polyline class="line" points="`)
	for i, p := range points {
		x := float64(chartLeft) + step*float64(i) + step/2
		y := float64(chartTop+plotH) - float64(plotH)*float64(p.Size)/float64(max)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String())
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
