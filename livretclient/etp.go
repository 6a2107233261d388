package livretclient

import (
	"context"
	"net/http"
	"net/url"
)

// ETPReport is GET /v1/etp: the hours that count for the next computation of the DSR, per
// instructor and category group (docs/api.md, "ETP"). Hours are decimal numbers.
type ETPReport struct {
	ComputationDate string          `json:"computation_date"`
	Window          ETPWindow       `json:"window"`
	Rules           string          `json:"rules"`
	Note            string          `json:"note"`
	Office          *string         `json:"office"`
	Instructors     []ETPInstructor `json:"instructors"`
	AtRisk          ETPAtRisk       `json:"at_risk"`
	Totals          ETPFigures      `json:"totals"`
	// Estimate is present only when the deployment sets its hours per ETP.
	Estimate *ETPEstimate `json:"estimate"`
	Weeks    []ETPWeek    `json:"weeks"`
}

// ETPWindow is the window's first and last days, both counted (YYYY-MM-DD).
type ETPWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ETPInstructor is one instructor (by authorisation number; the simulator's own row).
type ETPInstructor struct {
	Ref                 string       `json:"ref"`
	Name                string       `json:"name"`
	AuthorizationNumber string       `json:"authorization_number"`
	Simulator           bool         `json:"simulator"`
	Groups              []ETPGroup   `json:"groups"`
	Estimate            *ETPEstimate `json:"estimate"`
}

// ETPGroup is an instructor's figures in one category group (B, moto, lourd).
type ETPGroup struct {
	Group string `json:"group"`
	Label string `json:"label"`
	ETPFigures
}

// ETPFigures are hours transmitted, as counted, and at risk.
type ETPFigures struct {
	Hours         float64 `json:"hours"`
	CountedHours  float64 `json:"counted_hours"`
	AtRiskHours   float64 `json:"at_risk_hours"`
	Lessons       int     `json:"lessons"`
	AtRiskLessons int     `json:"at_risk_lessons"`
}

// ETPAtRisk are the window's lessons in error or not yet sent, and what to fix.
type ETPAtRisk struct {
	Lessons int      `json:"lessons"`
	Hours   float64  `json:"hours"`
	Pending int      `json:"pending"`
	Errors  []ETPFix `json:"errors"`
}

// ETPFix is one error code of the lessons at risk, with its French message and hint.
type ETPFix struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
	Lessons int    `json:"lessons"`
}

// ETPEstimate is an ETP by the deployment's hours per ETP, labelled "estimation".
type ETPEstimate struct {
	ETP   float64 `json:"etp"`
	Label string  `json:"label"`
}

// ETPWeek is one week of the window, for a chart.
type ETPWeek struct {
	From         string  `json:"from"`
	CountedHours float64 `json:"counted_hours"`
	AtRiskHours  float64 `json:"at_risk_hours"`
}

func etpQuery(office, at, format string) string {
	q := url.Values{}
	for k, v := range map[string]string{"office": office, "at": at, "format": format} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// ETP is GET /v1/etp: office (a ref) and at (YYYY-MM-DD) may be empty — the whole school,
// today in Paris.
func (c *Client) ETP(ctx context.Context, office, at string) (ETPReport, error) {
	var out ETPReport
	_, err := c.call(ctx, http.MethodGet, "/v1/etp"+etpQuery(office, at, ""), nil, &out)
	return out, err
}

// ETPCSV is GET /v1/etp?format=csv: the same rows, as the spreadsheet file.
func (c *Client) ETPCSV(ctx context.Context, office, at string) ([]byte, error) {
	path := "/v1/etp" + etpQuery(office, at, "csv")
	a, err := c.Raw(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if a.Status != http.StatusOK {
		return nil, problemOf(http.MethodGet, path, a)
	}
	return a.Body, nil
}
