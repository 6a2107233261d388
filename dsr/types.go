package dsr

import "time"

// Me is the RdvPermis account a token belongs to, and its school.
type Me struct {
	AccountID string // the DSR's compte_id
	Email     string
	School    School
}

// School is an account's driving school as the DSR knows it.
type School struct {
	Agrement string
	Name     string
	Status   string // "ouverte" or "fermee"
}

// Closed reports whether the DSR holds the school as closed: nothing can be sent for it.
func (s School) Closed() bool { return s.Status == schoolClosed }

// ContractRequest asks for a training contract. NEPH is normalised (12 digits) and Category
// is in the DSR's vocabulary (domain.Category.DSRCode()).
type ContractRequest struct {
	NEPH      string
	LastName  string
	FirstName string
	Category  string
}

// Contract is a training contract at the DSR.
type Contract struct {
	ID        string
	NEPH      string
	LastName  string
	FirstName string
	Category  string
}

// LessonRequest declares one lesson. Type is the DSR's type (domain.LessonType.DSRType()),
// AuthorizationNumber is normalised (domain.NormalizeAuthorization). Start and End are sent in
// French local time to the second.
type LessonRequest struct {
	Start, End          time.Time
	Type                string
	AuthorizationNumber string
	InstructorLastName  string
	InstructorFirstName string
}

// Lesson is a lesson stored at the DSR.
type Lesson struct {
	ID                  string
	Start, End          time.Time
	Type                string
	AuthorizationNumber string
}
