package webapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// batchPath is the bulk sync's route (docs/api.md, "Bulk sync"): its body may be larger than
// any other's (limitBody).
const batchPath = "/v1/batch"

// batchWriteTimeout is how long a batch's answer may take: up to 1,000 items take longer than
// one PUT (the server's write timeout is made for those).
const batchWriteTimeout = 5 * time.Minute

// batchBody is POST /v1/batch's body. The lists are decoded strictly as a whole (an unknown
// list, a list that is not one: 400), each item then on its own, so that a bad item is that
// item's refusal and not the request's.
type batchBody struct {
	Offices     []json.RawMessage `json:"offices"`
	Instructors []json.RawMessage `json:"instructors"`
	Students    []json.RawMessage `json:"students"`
	Lessons     []json.RawMessage `json:"lessons"`
}

// batch is POST /v1/batch: every item through its PUT's use case, one result per item.
func (s *Server) batch(c *gin.Context) {
	var body batchBody
	if err := decodeStrict(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	// Counted before the items are read: a batch too large is refused as a whole.
	if n := len(body.Offices) + len(body.Instructors) + len(body.Students) + len(body.Lessons); n > school.MaxBatchItems {
		_ = c.Error(school.BatchTooLarge(n))
		return
	}
	in := school.BatchInput{
		Offices:     batchItems[school.OfficeInput](body.Offices),
		Instructors: batchItems[school.InstructorInput](body.Instructors),
		Students:    batchItems[school.StudentInput](body.Students),
		Lessons:     batchItems[school.LessonInput](body.Lessons),
	}
	// Ignored where the writer cannot (a recorder in tests).
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(batchWriteTimeout))
	out, err := s.School.Batch(c.Request.Context(), schoolOf(c), in)
	answer(c, http.StatusOK, out, err)
}

// batchItems reads a list's items, each the body of its PUT plus "ref".
func batchItems[T any](raws []json.RawMessage) []school.BatchItem[T] {
	items := make([]school.BatchItem[T], len(raws))
	for i, raw := range raws {
		items[i].Ref, items[i].Refused = decodeBatchItem(raw, &items[i].Input)
	}
	return items
}

// decodeBatchItem reads one item: its "ref", then the rest exactly as the single PUT decodes
// its body (decodeStrictBytes), so an item is refused with the same problem and field errors
// as that PUT. refused is nil when the item could be read.
func decodeBatchItem(raw json.RawMessage, dst any) (ref string, refused *Problem) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return "", badRequest("Cet élément du lot doit être un objet JSON.")
	}
	if r, ok := fields["ref"]; ok {
		if err := json.Unmarshal(r, &ref); err != nil {
			return "", badRequest("Un champ n'a pas le type attendu.",
				FieldError{Field: "ref", Message: "Type invalide : " + frenchType(stringType) + " attendu."})
		}
		delete(fields, "ref")
	}
	rest, err := json.Marshal(fields)
	if err != nil { // the fields were just decoded from JSON: cannot happen
		return ref, badRequest("JSON illisible.")
	}
	if err := decodeStrictBytes(rest, dst); err != nil {
		var p *Problem
		if !errors.As(err, &p) { // decodeStrictBytes refuses only with problems
			p = badRequest("JSON illisible.")
		}
		return ref, p
	}
	return ref, nil
}

var stringType = reflect.TypeOf("")
