package livretclient

import "time"

// The requests and answers of webapi/openapi.json, one struct per schema, named as there.
// Nullable fields are pointers. A PUT replaces the whole record, so request fields are all
// sent, their zero value included; only PlannedAt is left out when unset (Livret then takes
// the time it first saw the lesson).

// SchoolInput is POST /v1/schools's body.
type SchoolInput struct {
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
	Scope    string `json:"scope,omitempty"` // guide or etendu; empty: the deployment's default
	// AdminEmail, when set, is invited as the school's first gerant.
	AdminEmail string `json:"admin_email,omitempty"`
}

// Settings is the school's own GET /v1/school.
type Settings struct {
	Name       string  `json:"name"`
	Agrement   string  `json:"agrement"`
	Scope      string  `json:"scope"`
	ScopeLabel string  `json:"scope_label"`
	ClosedAt   *string `json:"closed_at"`
	// AlertEmails receive the daily digest.
	AlertEmails    []string `json:"alert_emails"`
	ETPWarningDays int      `json:"etp_warning_days"`
}

// SettingsInput is PATCH /v1/school's body: a nil field is left as it is.
type SettingsInput struct {
	Scope *string `json:"scope,omitempty"`
	// AlertEmails replaces the alert addresses (a pointer to an empty list removes them all).
	AlertEmails    *[]string `json:"alert_emails,omitempty"`
	ETPWarningDays *int      `json:"etp_warning_days,omitempty"`
}

// SchoolCreated is a new school; APIKey is shown this once (only its hash is stored).
type SchoolCreated struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
	Scope    string `json:"scope"`
	APIKey   string `json:"api_key"`
}

// SchoolInfo is a school as the operator's list shows it: never its key.
type SchoolInfo struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Agrement string  `json:"agrement"`
	Scope    string  `json:"scope"`
	ClosedAt *string `json:"closed_at"`
	Created  string  `json:"created_at"`
}

// SchoolPage is a page of GET /v1/schools.
type SchoolPage struct {
	Items   []SchoolInfo `json:"items"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Total   int64        `json:"total"`
}

// Reopened answers POST /v1/schools/{id}/reopen.
type Reopened struct {
	School   SchoolInfo `json:"school"`
	Requeued int        `json:"requeued"`
}

// OfficeInput is PUT /v1/offices/{ref}'s body.
type OfficeInput struct {
	Name string `json:"name"`
}

// Office is an office with its RdvPermis link and last run.
type Office struct {
	Ref        string    `json:"ref"`
	Name       string    `json:"name"`
	DSR        OfficeDSR `json:"dsr"`
	ErrorCount int       `json:"error_count"`
	// Lessons are the office's lessons per status; NextRun is null when no run can send.
	Lessons LessonCounts `json:"lessons"`
	NextRun *time.Time   `json:"next_run"`
	LastRun *Run         `json:"last_run"`
}

// LessonCounts are an office's lessons per status as the school sees them.
type LessonCounts struct {
	Transmitted int `json:"transmitted"`
	Pending     int `json:"pending"`
	Error       int `json:"error"`
	NotEligible int `json:"not_eligible"`
	Cancelled   int `json:"cancelled"`
}

// OfficeDSR is an office's link to a RdvPermis account.
type OfficeDSR struct {
	Linked         bool       `json:"linked"`
	AccountEmail   *string    `json:"account_email"`
	LinkedAt       *time.Time `json:"linked_at"`
	NeedsReconnect bool       `json:"needs_reconnect"`
}

// Run is the record of one office run. Outcome is running (FinishedAt is nil), failed
// (Failure says why, in French), or how it ended: completed, school_closed,
// needs_reconnect, not_linked. Errors is the office's lessons in error when the run ended,
// as the office card's ErrorCount counts them; Refused, the lessons the run left in error.
type Run struct {
	WorkflowID   string     `json:"workflow_id"`
	RunID        string     `json:"run_id"`
	BusinessDate string     `json:"business_date"` // YYYY-MM-DD, Paris
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
	Transmitted  int        `json:"transmitted"`
	Errors       int        `json:"errors"`
	Refused      int        `json:"refused"`
	NotEligible  int        `json:"not_eligible"`
	Deferred     int        `json:"deferred"`
	Outcome      string     `json:"outcome"`
	Failure      *string    `json:"failure"`
}

// Run outcomes.
const (
	OutcomeRunning        = "running"
	OutcomeCompleted      = "completed"
	OutcomeFailed         = "failed"
	OutcomeSchoolClosed   = "school_closed"
	OutcomeNeedsReconnect = "needs_reconnect"
	OutcomeNotLinked      = "not_linked"
)

// RunStarted names the workflow of a run started (or of the day's run already going).
type RunStarted struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// InstructorInput is PUT /v1/instructors/{ref}'s body.
type InstructorInput struct {
	FirstName           string `json:"first_name"`
	LastName            string `json:"last_name"`
	AuthorizationNumber string `json:"authorization_number"`
	Simulator           bool   `json:"simulator"`
}

// Instructor is an instructor as Livret keeps them.
type Instructor struct {
	Ref                      string `json:"ref"`
	FirstName                string `json:"first_name"`
	LastName                 string `json:"last_name"`
	AuthorizationNumber      string `json:"authorization_number"`
	AuthorizationNumberValid bool   `json:"authorization_number_valid"`
	Simulator                bool   `json:"simulator"`
}

// StudentInput is PUT /v1/students/{ref}'s body.
type StudentInput struct {
	OfficeRef string `json:"office_ref"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	NEPH      string `json:"neph"`
	// The one-training form; or Trainings, all of the student's trainings.
	Category                  string          `json:"category,omitempty"`
	InitialEvaluationAccepted bool            `json:"initial_evaluation_accepted,omitempty"`
	Trainings                 []TrainingInput `json:"trainings,omitempty"`
}

// TrainingInput is one of a student's trainings (one per licence category).
type TrainingInput struct {
	Category                  string `json:"category"`
	InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
}

// Training is a student's training with its contract at the DSR.
type Training struct {
	Category                  string   `json:"category"`
	CategoryLabel             string   `json:"category_label"`
	InitialEvaluationAccepted bool     `json:"initial_evaluation_accepted"`
	Contract                  Contract `json:"contract"`
}

// Contract is a training's contract: status none, created or error (Message: the DSR's words).
type Contract struct {
	Status  string  `json:"status"`
	Message *string `json:"message"`
	Hint    *string `json:"hint"`
}

// Student is a student as Livret keeps them.
type Student struct {
	Ref                       string     `json:"ref"`
	OfficeRef                 string     `json:"office_ref"`
	FirstName                 string     `json:"first_name"`
	LastName                  string     `json:"last_name"`
	NEPH                      string     `json:"neph"`
	Category                  string     `json:"category"`
	CategoryLabel             string     `json:"category_label"`
	InitialEvaluationAccepted bool       `json:"initial_evaluation_accepted"`
	Trainings                 []Training `json:"trainings"`
}

// LessonInput is PUT /v1/lessons/{ref}'s body. Type is one of the API's lesson types
// (conduite, simulateur, code, …).
type LessonInput struct {
	OfficeRef     string     `json:"office_ref"`
	StudentRef    string     `json:"student_ref"`
	InstructorRef string     `json:"instructor_ref"`
	Type          string     `json:"type"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	PlannedAt     *time.Time `json:"planned_at,omitempty"`
	// Category names the lesson's training (required when the student has several).
	Category   string `json:"category,omitempty"`
	SessionRef string `json:"session_ref,omitempty"`
}

// Lesson is a lesson with its transmission to the DSR.
type Lesson struct {
	Ref           string       `json:"ref"`
	OfficeRef     string       `json:"office_ref"`
	Student       StudentRef   `json:"student"`
	InstructorRef string       `json:"instructor_ref"`
	Type          string       `json:"type"`
	TypeLabel     string       `json:"type_label"`
	Category      string       `json:"category"`
	CategoryLabel string       `json:"category_label"`
	SessionRef    *string      `json:"session_ref"`
	Start         time.Time    `json:"start"`
	End           time.Time    `json:"end"`
	PlannedAt     time.Time    `json:"planned_at"`
	Slot          string       `json:"slot"`
	Cancelled     bool         `json:"cancelled"`
	Transmission  Transmission `json:"transmission"`
}

// StudentRef is the student a lesson is of.
type StudentRef struct {
	Ref       string `json:"ref"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// Transmission statuses.
const (
	StatusPending     = "pending"
	StatusTransmitted = "transmitted"
	StatusError       = "error"
	StatusNotEligible = "not_eligible"
	StatusCancelled   = "cancelled"
)

// Transmission is where a lesson stands with the DSR. Message and Hint are French.
type Transmission struct {
	Status        string     `json:"status"`
	Code          *string    `json:"code"`
	Message       *string    `json:"message"`
	Hint          *string    `json:"hint"`
	DueOn         *string    `json:"due_on"` // YYYY-MM-DD, Paris: when a pending lesson goes
	Note          *string    `json:"note"`
	Resendable    bool       `json:"resendable"`
	DSRLessonID   *string    `json:"dsr_lesson_id"`
	TransmittedAt *time.Time `json:"transmitted_at"`
	Attempts      int        `json:"attempts"`
}

// CodeOr is the transmission's code, or "" when it has none.
func (t Transmission) CodeOr() string { return deref(t.Code) }

// MessageOr is the transmission's message, or "" when it has none.
func (t Transmission) MessageOr() string { return deref(t.Message) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// LessonPage is one page of a lesson list, newest first.
type LessonPage struct {
	Items   []Lesson `json:"items"`
	Page    int      `json:"page"`
	PerPage int      `json:"per_page"`
	Total   int      `json:"total"`
}

// ResendStarted is the answer of a resend that started.
type ResendStarted struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Lesson     Lesson `json:"lesson"`
}

// LessonQuery filters a lesson list; zero fields are left out (the API's defaults).
type LessonQuery struct {
	Office  string // office ref
	Status  string // pending, transmitted, error, not_eligible, cancelled; several comma-separated
	From    string // first Paris day, inclusive (YYYY-MM-DD)
	To      string // last Paris day, inclusive (YYYY-MM-DD)
	Student string // student ref (GET /v1/lessons only)
	// Category: the lessons of one training category.
	Category string
	Page     int
	PerPage  int
}

// ResendFilter picks the lessons of a bulk resend (refs, YYYY-MM-DD dates; empty: no filter).
type ResendFilter struct {
	Office  string `json:"office,omitempty"`
	Student string `json:"student,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	// Category: the lessons of one training category.
	Category string `json:"category,omitempty"`
}

// BulkResent is a bulk resend's outcome.
type BulkResent struct {
	Resent       int          `json:"resent"`
	StillInError int          `json:"still_in_error"`
	More         bool         `json:"more"`
	Runs         []RunStarted `json:"runs"`
	Deferred     bool         `json:"deferred"`
}

// WebhookInput is PUT /v1/webhooks/{ref}'s body.
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// Webhook is a subscription. Secret is set only in the answer that created it.
type Webhook struct {
	Ref       string   `json:"ref"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

// WebhookDelivery is one event's delivery to a subscription.
type WebhookDelivery struct {
	EventID        string           `json:"event_id"`
	Type           string           `json:"type"`
	Status         string           `json:"status"` // pending, delivered, failed, cancelled
	CreatedAt      string           `json:"created_at"`
	NextAttemptAt  *string          `json:"next_attempt_at"`
	FinishedAt     *string          `json:"finished_at"`
	AttemptCount   int              `json:"attempt_count"`
	LastStatusCode *int             `json:"last_status_code"`
	Attempts       []WebhookAttempt `json:"attempts"`
}

// WebhookAttempt is one POST of a delivery: a status code, or why there was no answer.
type WebhookAttempt struct {
	At         string  `json:"at"`
	StatusCode *int    `json:"status_code"`
	Error      *string `json:"error"`
	DurationMS int     `json:"duration_ms"`
}

// WebhookTestSent answers POST /v1/webhooks/{ref}/test.
type WebhookTestSent struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
}

// MaxBatchItems is how many items one POST /v1/batch takes, every list together.
const MaxBatchItems = 1000

// BatchInput is POST /v1/batch's body: each item is the body of its single PUT plus its ref.
// Livret applies the lists in this order (an item may name one of an earlier list), each item
// in its own transaction.
type BatchInput struct {
	Offices     []BatchOffice     `json:"offices,omitempty"`
	Instructors []BatchInstructor `json:"instructors,omitempty"`
	Students    []BatchStudent    `json:"students,omitempty"`
	Lessons     []BatchLesson     `json:"lessons,omitempty"`
}

// Len is the number of items of every list.
func (b BatchInput) Len() int {
	return len(b.Offices) + len(b.Instructors) + len(b.Students) + len(b.Lessons)
}

// BatchOffice is one office of a batch: PUT /v1/offices/{ref}.
type BatchOffice struct {
	Ref string `json:"ref"`
	OfficeInput
}

// BatchInstructor is one instructor of a batch: PUT /v1/instructors/{ref}.
type BatchInstructor struct {
	Ref string `json:"ref"`
	InstructorInput
}

// BatchStudent is one student of a batch: PUT /v1/students/{ref}.
type BatchStudent struct {
	Ref string `json:"ref"`
	StudentInput
}

// BatchLesson is one lesson of a batch: PUT /v1/lessons/{ref}.
type BatchLesson struct {
	Ref string `json:"ref"`
	LessonInput
}

// Batch item kinds.
const (
	KindOffice     = "office"
	KindInstructor = "instructor"
	KindStudent    = "student"
	KindLesson     = "lesson"
)

// BatchResult has one result per item, in the order Livret applied them: offices,
// instructors, students, lessons, each in its list's order.
type BatchResult struct {
	Results []BatchItemResult `json:"results"`
}

// BatchItemResult is what the item's single PUT would have answered: Status 201 or 200 when
// applied, else the refusal's problem Type, its French Detail and field Errors.
type BatchItemResult struct {
	Kind   string       `json:"kind"`
	Ref    string       `json:"ref"`
	Status int          `json:"status"`
	Type   string       `json:"type,omitempty"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors"`
	// Transmission is an applied lesson's.
	Transmission *Transmission `json:"transmission,omitempty"`
}

// Applied reports whether the item was written (created or updated).
func (r BatchItemResult) Applied() bool { return r.Status == 200 || r.Status == 201 }

// People, keys and the audit trail (docs/api.md, "People and keys").

// UserInput is the body of POST /v1/users.
type UserInput struct {
	Email      string   `json:"email"`
	Role       string   `json:"role"`
	OfficeRefs []string `json:"office_refs,omitempty"`
}

// UserPatch is the body of PATCH /v1/users/{id}.
type UserPatch struct {
	Role       string   `json:"role,omitempty"`
	OfficeRefs []string `json:"office_refs,omitempty"`
}

// User is a person of the school.
type User struct {
	ID         int64    `json:"id"`
	Email      string   `json:"email"`
	Role       string   `json:"role"`
	RoleLabel  string   `json:"role_label"`
	OfficeRefs []string `json:"office_refs"`
	Invited    bool     `json:"invited"`
	CreatedAt  string   `json:"created_at"`
}

// APIKeyInput is the body of POST /v1/api-keys.
type APIKeyInput struct {
	Name string `json:"name"`
}

// APIKeyCreated is the one answer that shows a key.
type APIKeyCreated struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Key       string `json:"key"`
	CreatedAt string `json:"created_at"`
}

// APIKey is a key as listed: never the key itself.
type APIKey struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
}

// AuditEntry is one row of the audit trail.
type AuditEntry struct {
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Object string `json:"object"`
}

// AuditPage is a page of GET /v1/audit.
type AuditPage struct {
	Items   []AuditEntry `json:"items"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Total   int64        `json:"total"`
}
