package main

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"livret/sandbox"
)

// peakRSSMB is the process's peak resident memory (VmHWM), in MB: the worker, the embedded
// Temporal server and the sandbox together, since they share this process.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// resetPeakRSS starts a new peak (Linux: clear_refs 5), so each scenario reports its own.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// historyEvents sums the history length of every workflow execution of the stack's
// namespace (continued-as-new runs included).
func historyEvents(ctx context.Context, s *stack) (int64, int, error) {
	var total int64
	var n int
	var token []byte
	for {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.namespace, NextPageToken: token, PageSize: 1000})
		if err != nil {
			return 0, 0, err
		}
		for _, e := range resp.GetExecutions() {
			total += e.GetHistoryLength()
			n++
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return total, n, nil
		}
	}
}

// accountRates are, over the accounts of a ledger, the achieved call rate and the busiest
// 60 s window, each as a share of the limit.
type accountRates struct {
	AchievedMin, AchievedMedian float64
	MaxWindowOverLimit          float64
	Accounts                    int
	// GapMedian is the median over accounts of each one's longest quiet time between two
	// calls: where the capacity went when the achieved rate falls short.
	GapMedian time.Duration
	// AchievedP10 is the tenth percentile, Below90 how many accounts stayed under 0.90 of
	// the limit, and SlowestGap, SlowestCalls the longest quiet time and the calls of the
	// account at the minimum: whether a low minimum is a tail or one account's accident.
	AchievedP10  float64
	Below90      int
	SlowestGap   time.Duration
	SlowestCalls int
}

func rates(l sandbox.Ledger, limit int) accountRates {
	var achieved []float64
	var gaps []time.Duration
	r := accountRates{AchievedMin: 2}
	for _, a := range l.Accounts {
		if a.AcceptedCalls < 2 || a.FirstCallAt == nil {
			continue
		}
		span := a.LastCallAt.Sub(*a.FirstCallAt)
		// n calls span n-1 intervals: that is the rate the account was driven at.
		perMin := float64(a.AcceptedCalls-1) / span.Minutes()
		share := perMin / float64(limit)
		achieved = append(achieved, share)
		gaps = append(gaps, time.Duration(a.LongestGapMS)*time.Millisecond)
		if share < 0.9 {
			r.Below90++
		}
		if share < r.AchievedMin {
			r.AchievedMin, r.SlowestGap, r.SlowestCalls = share, time.Duration(a.LongestGapMS)*time.Millisecond, a.AcceptedCalls
		}
		r.MaxWindowOverLimit = max(r.MaxWindowOverLimit, float64(a.MaxCallsIn60s)/float64(limit))
	}
	if len(achieved) == 0 {
		return accountRates{}
	}
	sort.Float64s(achieved)
	r.Accounts = len(achieved)
	r.AchievedMedian = achieved[len(achieved)/2]
	r.AchievedP10 = achieved[len(achieved)/10]
	r.GapMedian = percentile(gaps, 0.5)
	return r
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}
