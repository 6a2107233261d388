package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"livret/livretclient"
)

// exportHeader is the export's first line as docs/api.md ("The report") lists it: the
// accents must arrive intact, after a UTF-8 byte-order mark.
var exportHeader = []string{"Référence", "Bureau", "Date et heure", "Début", "Fin", "Type de leçon", "Catégorie",
	"Élève", "Réf. élève", "Réf. formateur", "Séance collective", "Transmission", "Code", "Message", "Indication",
	"Transmise le", "Identifiant DSR"}

// scenarioExport measures the CSV export (GET /v1/lessons?format=csv) of one month and of the
// whole of an office holding c.reportSize lessons (6,200 and all): wall time, bytes, and this process's memory
// before and during the download (the webapi serves it from this process). A streamed export
// keeps the same peak whatever the number of rows.
func scenarioExport(ctx context.Context, c config) ([]result, error) {
	s, err := newStack(ctx, c.adminURL, c.dbConns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	web, err := startAPI(ctx, s)
	if err != nil {
		return nil, err
	}
	defer web.close()
	api, err := fillReportOffice(ctx, s, web, c.reportSize)
	if err != nil {
		return nil, err
	}
	var out []result
	for _, v := range []struct {
		name string
		q    livretclient.LessonQuery
	}{
		{"one month (office, January 2024)", livretclient.LessonQuery{Office: "B1", From: "2024-01-01", To: "2024-01-31"}},
		{"the whole office", livretclient.LessonQuery{Office: "B1"}},
	} {
		page, err := api.Lessons(ctx, v.q)
		if err != nil {
			return nil, err
		}
		r, err := measureExport(ctx, api, v.q, page.Total)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		if r.Rows != page.Total {
			return nil, fmt.Errorf("%s: %d rows, the report counts %d", v.name, r.Rows, page.Total)
		}
		r.Variant = v.name
		out = append(out, r)
	}
	return out, nil
}

// measureExport downloads one export, reading it as a spreadsheet would (row by row, never
// held whole), while sampling the process's heap; want is the rows it should have, half of
// which is where the live heap is measured once more, so that a short download has a figure.
func measureExport(ctx context.Context, api *livretclient.Client, q livretclient.LessonQuery, want int) (result, error) {
	r := result{Scenario: "export", Lessons: 0}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore, sysBefore, allocBefore := ms.HeapInuse, ms.Sys, ms.TotalAlloc
	resetPeakRSS()
	rssBefore := peakRSSMB()

	// The heap's peaks during the download: in use, sampled every 5 ms (it grows between
	// collections as the collector's pacing lets it), and live, measured by a forced
	// collection every 50 ms and half-way through the rows (what the process still holds:
	// what a streamed export must keep flat).
	liveBefore := liveHeap()
	var peakHeap, peakLive, midLive uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for tick := 0; ; tick++ {
			runtime.ReadMemStats(&m)
			peakHeap = max(peakHeap, m.HeapInuse)
			if tick%10 == 9 {
				peakLive = max(peakLive, liveHeap())
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	start := time.Now()
	err := func() error {
		path := "/v1/lessons" + encodeQuery(q) + "&format=csv"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.BaseURL+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+api.Token)
		resp, err := (&http.Client{Timeout: 15 * time.Minute}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
		}
		counted := &countingReader{r: resp.Body}
		br := bufio.NewReader(counted)
		bom := make([]byte, 3)
		if _, err := io.ReadFull(br, bom); err != nil || string(bom) != "\ufeff" {
			return fmt.Errorf("no UTF-8 byte-order mark: %q", bom)
		}
		r.FirstByteMs = float64(time.Since(start).Microseconds()) / 1000
		cr := csv.NewReader(br)
		cr.Comma = ';'
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			return err
		}
		if !slices.Equal(header, exportHeader) {
			return fmt.Errorf("header %q, want %q", header, exportHeader)
		}
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if r.Rows++; r.Rows == want/2 {
				midLive = liveHeap()
			}
		}
		r.MB = float64(counted.n) / 1e6
		return nil
	}()
	r.WallS = time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if err != nil {
		return r, err
	}
	runtime.ReadMemStats(&ms)
	r.Lessons = r.Rows
	r.LessonsPerS = float64(r.Rows) / r.WallS
	r.HeapBeforeMB, r.HeapPeakMB = mb(heapBefore), mb(peakHeap)
	r.LiveBeforeMB, r.LivePeakMB = mb(liveBefore), mb(max(peakLive, midLive))
	r.SysGrowthMB = mb(ms.Sys) - mb(sysBefore)
	r.AllocMB = mb(ms.TotalAlloc - allocBefore)
	r.RSSBeforeMB, r.PeakRSSMB = rssBefore, peakRSSMB()
	return r, nil
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// liveHeap is the heap a full collection leaves: what the process holds.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// encodeQuery is a lesson filter as a query string (office, from, to only: what this scenario uses).
func encodeQuery(q livretclient.LessonQuery) string {
	s := "?office=" + q.Office
	if q.From != "" {
		s += "&from=" + q.From + "&to=" + q.To
	}
	return s
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
