package school

import (
	"cmp"
	"context"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// The ETP figures (docs/rules.md, "ETP"; docs/api.md, GET /v1/etp): per instructor and
// category group, the hours transmitted in the window of the next computation, the hours as
// the DSR counts them, and the hours at risk with what to fix. The SQL reads one narrow row
// per lesson of the window, office by office; the rules are domain's (domain.ETPRules.Count).

// ETPEstimateLabel marks every ETP estimate: no "hours per ETP" figure is public, so the
// deployment's is an estimate, and says so wherever it shows (product.md, "ETP").
const ETPEstimateLabel = "estimation"

// ETPReport is GET /v1/etp: the figures of one office, or of the whole school.
type ETPReport struct {
	// ComputationDate is the next computation on or after the date asked (YYYY-MM-DD): the
	// DSR counts in the night that starts that evening.
	ComputationDate string    `json:"computation_date"`
	Window          ETPWindow `json:"window"`
	// Rules is the version of domain's ETP table the figures follow.
	Rules string `json:"rules"`
	// Note says in French when the DSR counts, and why when a holiday moved it.
	Note string `json:"note"`
	// Office is the office's ref, null for the whole school.
	Office      *string         `json:"office"`
	Instructors []ETPInstructor `json:"instructors"`
	AtRisk      ETPAtRisk       `json:"at_risk"`
	Totals      ETPFigures      `json:"totals"`
	// Estimate is the school's (or office's) ETP by the deployment's hours per ETP; absent
	// when the deployment sets none.
	Estimate *ETPEstimate `json:"estimate,omitempty"`
	// Weeks are the counted and at-risk hours of each week of the window, for the chart.
	Weeks []ETPWeek `json:"weeks"`
}

// ETPWindow is the window's first and last days (both counted), YYYY-MM-DD.
type ETPWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ETPInstructor is one instructor as the DSR tells them apart (domain.ETPInstructorKey).
type ETPInstructor struct {
	Ref                 string `json:"ref"`
	Name                string `json:"name"`
	AuthorizationNumber string `json:"authorization_number"`
	// Simulator: the row of the unsupervised simulator (generic number).
	Simulator bool       `json:"simulator"`
	Groups    []ETPGroup `json:"groups"`
	// Estimate is this row's ETP by the deployment's hours per ETP, when it sets one.
	Estimate *ETPEstimate `json:"estimate,omitempty"`
}

// ETPGroup is one instructor's figures in one category group.
type ETPGroup struct {
	Group string `json:"group"` // B, moto, lourd
	Label string `json:"label"`
	ETPFigures
}

// ETPFigures are hours, decimal, rounded to the hundredth.
type ETPFigures struct {
	// Hours are the transmitted lessons' hours, as they lasted.
	Hours float64 `json:"hours"`
	// CountedHours are those hours as the DSR counts them (domain's ETP table).
	CountedHours float64 `json:"counted_hours"`
	// AtRiskHours are the counted hours the lessons in error or not yet sent would add.
	AtRiskHours   float64 `json:"at_risk_hours"`
	Lessons       int     `json:"lessons"`
	AtRiskLessons int     `json:"at_risk_lessons"`
}

// ETPAtRisk are the window's lessons in error or not yet sent, and what to fix.
type ETPAtRisk struct {
	Lessons int     `json:"lessons"`
	Hours   float64 `json:"hours"`
	// Pending lessons wait for a run (or are being sent): nothing to fix unless they stay.
	Pending int `json:"pending"`
	// Errors count the lessons in error per code, with domain's French message and hint,
	// most frequent first.
	Errors []ETPFix `json:"errors"`
}

// ETPFix is one error code of the lessons at risk.
type ETPFix struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
	Lessons int    `json:"lessons"`
}

// ETPEstimate is counted hours over the deployment's hours per ETP, labelled "estimation".
type ETPEstimate struct {
	ETP   float64 `json:"etp"`
	Label string  `json:"label"`
}

// ETPWeek is one week of the window, by its first day in the window.
type ETPWeek struct {
	From         string  `json:"from"`
	CountedHours float64 `json:"counted_hours"`
	AtRiskHours  float64 `json:"at_risk_hours"`
}

// ETP answers GET /v1/etp: office (a ref, optional) and at (YYYY-MM-DD, today in Paris when
// absent), read from the query string as sent. An unknown office is a 404 naming the field,
// as another school's is.
func (s *Service) ETP(ctx context.Context, school dbq.School, query url.Values) (ETPReport, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return ETPReport{}, err
	}
	var errs fieldErrors
	at := s.now()
	if day, ok := parseDay(query, "at", &errs); ok {
		at = day
	}
	var officeRef string
	if ref, ok := get(query, "office"); ok {
		officeRef = errs.cleanText("office", ref, true, maxRefLen)
	}
	if err := errs.problem(); err != nil {
		return ETPReport{}, err
	}
	var officeID *int64
	if officeRef != "" {
		o, err := officeByRef(ctx, dbq.New(s.Pool), school.ID, officeRef)
		if err == ErrOfficeNotFound {
			p := *ErrOfficeNotFound
			p.Errors = []FieldError{{Field: "office", Message: "Bureau inconnu."}}
			return ETPReport{}, &p
		}
		if err != nil {
			return ETPReport{}, err
		}
		officeID = &o.ID
	}
	return s.etp(ctx, school, officeID, officeRef, at)
}

// ETPNextComputation is the computation on or after at's Paris date (00:00 Paris of that
// date), by the deployment's window.
func (s *Service) ETPNextComputation(at time.Time) time.Time {
	return domain.ETPPeriodAt(at, s.ETPWindowMonths).Computation
}

// ETPRisk is what the warning before a computation reads (product.md, "ETP": N days before the
// 24th, while hours are at risk).
type ETPRisk struct {
	Computation time.Time
	Lessons     int
	Hours       float64
}

// ETPAtRisk is the school's hours at risk for the computation on or after at: its lessons
// of the window in error or not yet sent, and the counted hours they would add.
func (s *Service) ETPAtRisk(ctx context.Context, school dbq.School, at time.Time) (ETPRisk, error) {
	if err := Authorize(ctx, domain.PermRead); err != nil {
		return ETPRisk{}, err
	}
	r, err := s.etp(ctx, school, nil, "", at)
	if err != nil {
		return ETPRisk{}, err
	}
	c, _ := domain.ParseBusinessDate(r.ComputationDate)
	return ETPRisk{Computation: c, Lessons: r.AtRisk.Lessons, Hours: r.AtRisk.Hours}, nil
}

// etpRow gathers one instructor's lessons, per group.
type etpRow struct {
	inst      dbq.Instructor // the record shown: the smallest ref of those sharing the key
	simulator bool
	index     int    // its place in the lessons' layout
	sortKey   string // last name, first name, as the report's search folds them
	groups    map[domain.Group][]domain.ETPLesson
}

// asText is codes as the text the SQL compares them with.
func asText[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// etpGroups are the groups the DSR counts, in the order rows show them.
var etpGroups = []domain.Group{domain.GroupB, domain.GroupMoto, domain.GroupLourd}

func (s *Service) etp(ctx context.Context, school dbq.School, officeID *int64, officeRef string, at time.Time) (out ETPReport, err error) {
	p := domain.ETPPeriodAt(at, s.ETPWindowMonths)
	q := dbq.New(s.Pool)
	// Office by office, each read from its ETP index; the whole school is its offices.
	offices := []int64{}
	if officeID != nil {
		offices = append(offices, *officeID)
	} else if offices, err = q.OfficeListIDs(ctx, dbq.OfficeListIDsParams{SchoolID: school.ID, OfficeIds: officeScope(ctx)}); err != nil {
		return ETPReport{}, err
	}
	// The rows name categories and types by their place in domain's lists (from 1).
	categories, types := domain.Categories(), domain.LessonTypes()
	var countedCategories []string // the categories the DSR counts, for the codes to fix
	for _, c := range categories {
		if slices.Contains(etpGroups, c.Group()) {
			countedCategories = append(countedCategories, string(c))
		}
	}
	var perOffice [][]dbq.LessonListETPRow
	fixes := map[string]int{}
	errorsCount := 0
	for _, id := range offices {
		rows, err := q.LessonListETP(ctx, dbq.LessonListETPParams{SchoolID: school.ID, OfficeID: id, FromAt: p.From, ToAt: p.End(),
			Categories: asText(categories), Types: asText(types)})
		if err != nil {
			return ETPReport{}, err
		}
		perOffice = append(perOffice, rows)
		codes, err := q.TransmissionCountErrorsByCode(ctx, dbq.TransmissionCountErrorsByCodeParams{SchoolID: school.ID, OfficeID: id,
			FromAt: p.From, ToAt: p.End(), Categories: countedCategories})
		if err != nil {
			return ETPReport{}, err
		}
		for _, c := range codes {
			fixes[c.Code] += int(c.Lessons)
			errorsCount += int(c.Lessons)
		}
	}
	place := func(n int32, max int) int { // a 1-based place, or -1
		if n < 1 || int(n) > max {
			return -1
		}
		return int(n) - 1
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, lessons := range perOffice {
		for _, l := range lessons {
			if !seen[l.InstructorID] {
				seen[l.InstructorID] = true
				ids = append(ids, l.InstructorID)
			}
		}
	}
	insts, err := q.InstructorListByIDs(ctx, dbq.InstructorListByIDsParams{SchoolID: school.ID, Ids: ids})
	if err != nil {
		return ETPReport{}, err
	}
	rowOf := make(map[int64]*etpRow, len(insts)) // by instructor record
	rows := map[string]*etpRow{}                 // by domain.ETPInstructorKey
	for _, in := range insts {
		key := domain.ETPInstructorKey(in.Ref, in.AuthorizationNumber, in.Simulator)
		r := rows[key]
		if r == nil {
			r = &etpRow{inst: in, simulator: key == domain.GenericSimulatorAuthorization, index: len(rows)}
			rows[key] = r
		} else if in.Ref < r.inst.Ref {
			r.inst = in
		}
		rowOf[in.ID] = r
	}

	out = ETPReport{ComputationDate: domain.BusinessDate(p.Computation),
		Window: ETPWindow{From: domain.BusinessDate(p.From), To: domain.BusinessDate(p.To)},
		Rules:  p.Rules.Version, Note: etpNote(p), Instructors: []ETPInstructor{},
		AtRisk: ETPAtRisk{Errors: []ETPFix{}}}
	if officeRef != "" {
		out.Office = &officeRef
	}
	// Each row's lessons of each group, laid out in one array by a counting sort: the
	// window may hold 100,000 lessons, read once and copied once.
	bucket := func(l *dbq.LessonListETPRow) int {
		c := place(l.Category, len(categories))
		r := rowOf[l.InstructorID]
		if c < 0 || r == nil {
			return -1
		}
		gi := slices.Index(etpGroups, categories[c].Group())
		if gi < 0 {
			return -1 // never sent: not the DSR's
		}
		return r.index*len(etpGroups) + gi
	}
	offsets := make([]int, len(rows)*len(etpGroups)+1)
	for _, lessons := range perOffice {
		for i := range lessons {
			if b := bucket(&lessons[i]); b >= 0 {
				offsets[b+1]++
			}
		}
	}
	for b := 1; b < len(offsets); b++ {
		offsets[b] += offsets[b-1]
	}
	all := make([]domain.ETPLesson, offsets[len(offsets)-1])
	next := slices.Clone(offsets)
	for _, lessons := range perOffice {
		for i := range lessons {
			l := &lessons[i]
			b := bucket(l)
			if b < 0 {
				continue
			}
			var typ domain.LessonType // "" when not listed: it then counts as it lasts
			if t := place(l.Type, len(types)); t >= 0 {
				typ = types[t]
			}
			all[next[b]] = domain.ETPLesson{Student: l.StudentID, Category: categories[place(l.Category, len(categories))],
				Type: typ, Start: time.Unix(l.Starts, 0), End: time.Unix(l.Ends, 0), AtRisk: !l.Transmitted}
			next[b]++
		}
	}
	perOffice = nil // let the rows go before counting
	for _, r := range rows {
		r.groups = make(map[domain.Group][]domain.ETPLesson, len(etpGroups))
		for gi, g := range etpGroups {
			b := r.index*len(etpGroups) + gi
			r.groups[g] = all[offsets[b]:offsets[b+1]]
		}
	}

	weeks := p.Weeks()
	counted, risky := make([]float64, len(weeks)), make([]float64, len(weeks))
	addWeek := func(at time.Time, c, a float64) {
		if w := p.Week(at); w >= 0 {
			counted[w] += c
			risky[w] += a
		}
	}
	// Instructors by last name, then first name; the simulator's row last.
	ordered := make([]*etpRow, 0, len(rows))
	for _, r := range rows {
		ordered = append(ordered, r)
	}
	for _, r := range ordered {
		r.sortKey = domain.SearchKey(r.inst.LastName + " " + r.inst.FirstName)
	}
	slices.SortFunc(ordered, func(a, b *etpRow) int {
		if a.simulator != b.simulator {
			if a.simulator {
				return 1
			}
			return -1
		}
		return cmp.Or(strings.Compare(a.sortKey, b.sortKey), strings.Compare(a.inst.Ref, b.inst.Ref))
	})
	var total domain.ETPTally
	for _, r := range ordered {
		row := ETPInstructor{Ref: r.inst.Ref, Name: strings.TrimSpace(r.inst.FirstName + " " + r.inst.LastName),
			AuthorizationNumber: etpNumber(r), Simulator: r.simulator, Groups: []ETPGroup{}}
		var rowCounted float64
		for _, g := range etpGroups {
			ls := r.groups[g]
			if len(ls) == 0 {
				continue
			}
			t := p.Rules.Count(r.simulator, ls, addWeek)
			row.Groups = append(row.Groups, ETPGroup{Group: string(g), Label: g.Label(), ETPFigures: figures(t)})
			rowCounted += t.Counted
			total.Lessons += t.Lessons
			total.AtRiskLessons += t.AtRiskLessons
			total.Hours += t.Hours
			total.Counted += t.Counted
			total.AtRisk += t.AtRisk
		}
		if len(row.Groups) == 0 {
			continue
		}
		row.Estimate = s.etpEstimate(rowCounted)
		out.Instructors = append(out.Instructors, row)
	}
	out.Totals = figures(total)
	out.Estimate = s.etpEstimate(total.Counted)
	out.AtRisk.Lessons = total.AtRiskLessons
	out.AtRisk.Pending = max(0, total.AtRiskLessons-errorsCount) // pending or being sent
	out.AtRisk.Hours = out.Totals.AtRiskHours
	for code, n := range fixes {
		c := domain.Code(code)
		out.AtRisk.Errors = append(out.AtRisk.Errors, ETPFix{Code: code, Message: c.Message(), Hint: c.Hint(), Lessons: n})
	}
	slices.SortFunc(out.AtRisk.Errors, func(a, b ETPFix) int {
		return cmp.Or(cmp.Compare(b.Lessons, a.Lessons), strings.Compare(a.Code, b.Code))
	})
	for i, w := range weeks {
		out.Weeks = append(out.Weeks, ETPWeek{From: domain.BusinessDate(w), CountedHours: hundredth(counted[i]), AtRiskHours: hundredth(risky[i])})
	}
	return out, nil
}

// etpNumber is the authorisation number a row shows: the DSR's reading of it, or the record's
// own when it cannot reach the DSR.
func etpNumber(r *etpRow) string {
	if r.simulator {
		return domain.GenericSimulatorAuthorization
	}
	if n, ok := domain.NormalizeAuthorization(r.inst.AuthorizationNumber); ok {
		return n
	}
	return r.inst.AuthorizationNumber
}

func figures(t domain.ETPTally) ETPFigures {
	return ETPFigures{Hours: hundredth(t.Hours), CountedHours: hundredth(t.Counted), AtRiskHours: hundredth(t.AtRisk),
		Lessons: t.Lessons, AtRiskLessons: t.AtRiskLessons}
}

func hundredth(x float64) float64 { return math.Round(x*100) / 100 }

func (s *Service) etpEstimate(counted float64) *ETPEstimate {
	if s.ETPHoursPerETP <= 0 {
		return nil
	}
	return &ETPEstimate{ETP: hundredth(counted / s.ETPHoursPerETP), Label: ETPEstimateLabel}
}

var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
	"octobre", "novembre", "décembre"}

// frenchDay is "23 décembre 2026".
func frenchDay(t time.Time) string {
	p := t.In(domain.Paris)
	d := strconv.Itoa(p.Day())
	if p.Day() == 1 {
		d = "1er"
	}
	return d + " " + frenchMonths[p.Month()-1] + " " + strconv.Itoa(p.Year())
}

// etpNote says when the DSR counts: "La DSR calcule l'ETP dans la nuit du 23 au 24 décembre
// 2026 (le 25 décembre est férié : Noël)."
func etpNote(p domain.ETPPeriod) string {
	next := p.Computation.AddDate(0, 0, 1)
	note := "La DSR calcule l'ETP dans la nuit du " + strconv.Itoa(p.Computation.Day()) + " au " + frenchDay(next)
	if p.Holiday != "" {
		note += " (le " + strings.TrimSuffix(frenchDay(p.HolidayOn), " "+strconv.Itoa(p.HolidayOn.Year())) + " est férié : " + p.Holiday + ")"
	}
	return note + ", avec les heures qu'elle a reçues : les leçons jusqu'au " + frenchDay(p.To) + " comptent, si elles lui sont transmises d'ici là."
}

// FormatHours is hours as the pages and the CSV write them: "12,50".
func FormatHours(h float64) string {
	return strings.Replace(strconv.FormatFloat(h, 'f', 2, 64), ".", ",", 1)
}

// ETPCSVFileName is the download's name, by the computation date.
func ETPCSVFileName(r ETPReport) string { return "livret-etp-" + r.ComputationDate + ".csv" }

// frenchDate is a YYYY-MM-DD date as the pages write it: "23/12/2026".
func frenchDate(iso string) string {
	t, err := domain.ParseBusinessDate(iso)
	if err != nil {
		return iso
	}
	return t.Format("02/01/2006")
}

// WriteCSV writes the report's rows, one per instructor and group, as the lessons' export
// does (';', UTF-8 with BOM, French headers, formula cells quoted).
func (r ETPReport) WriteCSV(w io.Writer) error {
	header := []string{"Date de calcul", "Fenêtre du", "Fenêtre au", "Bureau", "Formateur", "Réf. formateur",
		"N° d'autorisation d'enseigner", "Catégories", "Heures transmises", "Heures comptées", "Heures à risque",
		"Leçons transmises", "Leçons à risque", "Règles"}
	withEstimate := r.Estimate != nil
	if withEstimate {
		header = append(header, "ETP du formateur ("+ETPEstimateLabel+")")
	}
	cw, err := newCSV(w, header)
	if err != nil {
		return err
	}
	office := "Tous les bureaux"
	if r.Office != nil {
		office = *r.Office
	}
	for _, in := range r.Instructors {
		for _, g := range in.Groups {
			row := []string{frenchDate(r.ComputationDate), frenchDate(r.Window.From), frenchDate(r.Window.To), office,
				in.Name, in.Ref, in.AuthorizationNumber, g.Label, FormatHours(g.Hours), FormatHours(g.CountedHours),
				FormatHours(g.AtRiskHours), strconv.Itoa(g.Lessons), strconv.Itoa(g.AtRiskLessons), r.Rules}
			if withEstimate {
				row = append(row, FormatHours(in.Estimate.ETP))
			}
			if err := cw.Write(safeCells(row)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
