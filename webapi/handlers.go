package webapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// The API's handlers: decode, call the use-case layer (package school), encode. Every rule
// lives there (docs/architecture.md, "Layout").

// readInput checks the path's ref and decodes the body strictly.
func readInput(c *gin.Context, dst any) (ref string, err error) {
	ref = c.Param("ref")
	if err := school.CheckRef("ref", ref); err != nil {
		return "", err
	}
	return ref, decodeStrict(c, dst)
}

// upsertStatus is 201 when the row was just created, 200 when it was updated.
func upsertStatus(isNew bool) int {
	if isNew {
		return http.StatusCreated
	}
	return http.StatusOK
}

// answer encodes a use case's result, or hands its error to renderErrors.
func answer[T any](c *gin.Context, status int, v T, err error) {
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(status, v)
}

// put is a PUT /v1/<things>/{ref}: decode In, upsert, answer 201 or 200.
func put[In, Out any](do func(c *gin.Context, ref string, in In) (Out, bool, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in In
		ref, err := readInput(c, &in)
		if err != nil {
			_ = c.Error(err)
			return
		}
		out, isNew, err := do(c, ref, in)
		answer(c, upsertStatus(isNew), out, err)
	}
}

func (s *Server) putOffice(c *gin.Context, ref string, in school.OfficeInput) (school.Office, bool, error) {
	return s.School.PutOffice(c.Request.Context(), schoolOf(c), ref, in)
}

func (s *Server) putInstructor(c *gin.Context, ref string, in school.InstructorInput) (school.Instructor, bool, error) {
	return s.School.PutInstructor(c.Request.Context(), schoolOf(c), ref, in)
}

func (s *Server) putStudent(c *gin.Context, ref string, in school.StudentInput) (school.Student, bool, error) {
	return s.School.PutStudent(c.Request.Context(), schoolOf(c), ref, in)
}

func (s *Server) putLesson(c *gin.Context, ref string, in school.LessonInput) (school.Lesson, bool, error) {
	return s.School.PutLesson(c.Request.Context(), schoolOf(c), ref, in)
}

func (s *Server) cancelLesson(c *gin.Context) {
	v, err := s.School.CancelLesson(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) resendLesson(c *gin.Context) {
	r, err := s.School.ResendLesson(c.Request.Context(), schoolOf(c), c.Param("ref"))
	switch {
	case err != nil:
		_ = c.Error(err)
	case !r.Started: // Livret's own checks still refuse it: the lesson as it stands
		c.JSON(http.StatusOK, r.Lesson)
	default:
		c.JSON(http.StatusAccepted, r)
	}
}

// resendLessons is "Renvoyer les N leçons": every lesson of the filter the DSR refused.
func (s *Server) resendLessons(c *gin.Context) {
	var f school.ResendFilter
	if err := decodeStrict(c, &f); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.School.ResendLessons(c.Request.Context(), schoolOf(c), f)
	answer(c, http.StatusOK, out, err)
}

// getSchool is GET /v1/school: the school's own settings.
func (s *Server) getSchool(c *gin.Context) {
	v, err := s.School.Settings(c.Request.Context(), schoolOf(c))
	answer(c, http.StatusOK, v, err)
}

// patchSchool is PATCH /v1/school: a new scope judges the school's waiting lessons again.
func (s *Server) patchSchool(c *gin.Context) {
	var in school.SettingsInput
	if err := decodeStrict(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	v, err := s.School.ChangeSettings(c.Request.Context(), schoolOf(c), in)
	answer(c, http.StatusOK, v, err)
}

func (s *Server) getOffice(c *gin.Context) {
	v, err := s.School.Office(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) getLesson(c *gin.Context) {
	v, err := s.School.Lesson(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) startRun(c *gin.Context) {
	r, err := s.School.StartRun(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusAccepted, r, err)
}

func (s *Server) listOffices(c *gin.Context) {
	v, err := s.School.Offices(c.Request.Context(), schoolOf(c))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) listRuns(c *gin.Context) {
	v, err := s.School.Runs(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) listLessons(c *gin.Context) {
	csv, err := wantsCSV(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if csv {
		s.exportLessons(c)
		return
	}
	v, err := s.School.Lessons(c.Request.Context(), schoolOf(c), c.Request.URL.Query())
	answer(c, http.StatusOK, v, err)
}

func (s *Server) listStudentLessons(c *gin.Context) {
	v, err := s.School.StudentLessons(c.Request.Context(), schoolOf(c), c.Param("ref"), c.Request.URL.Query())
	answer(c, http.StatusOK, v, err)
}

func (s *Server) searchStudents(c *gin.Context) {
	v, err := s.School.SearchStudents(c.Request.Context(), schoolOf(c), c.Query("q"))
	answer(c, http.StatusOK, v, err)
}

// connectOffice is GET /v1/offices/{ref}/dsr/connect: 302 to RdvPermis's login.
func (s *Server) connectOffice(c *gin.Context) {
	u, err := s.School.Connect(c.Request.Context(), schoolOf(c), c.Param("ref"), c.Query("confirm") == "1", c.Request.URL.Query())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, u)
}

// oauthCallback is GET /v1/oauth/callback, where RdvPermis sends the browser back.
func (s *Server) oauthCallback(c *gin.Context) {
	// The pages bind the state to the browser that started linking (webui's binding cookie).
	binding, _ := c.Cookie(OAuthBindingCookie)
	l, err := s.School.CallbackFrom(c.Request.Context(), c.Query("state"), c.Query("code"), c.Query("error"), binding)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.log().InfoContext(c.Request.Context(), "office linked", "school_id", l.SchoolID, "office_id", l.OfficeID, "request_id", requestID(c))
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, LinkedPage)
}

func (s *Server) disconnectOffice(c *gin.Context) {
	v, err := s.School.Disconnect(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusOK, v, err)
}

// createSchool is the operator's POST /v1/schools.
func (s *Server) createSchool(c *gin.Context) {
	var in school.SchoolInput
	if err := decodeStrict(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	v, err := s.School.CreateSchool(c.Request.Context(), in)
	c.Header("Cache-Control", "no-store") // the key must not linger in a cache
	answer(c, http.StatusCreated, v, err)
}

// listSchools is the operator's GET /v1/schools.
func (s *Server) listSchools(c *gin.Context) {
	v, err := s.School.Schools(c.Request.Context(), c.Request.URL.Query())
	answer(c, http.StatusOK, v, err)
}

// reopenSchool is the operator's POST /v1/schools/{id}/reopen.
func (s *Server) reopenSchool(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		_ = c.Error(school.ErrSchoolNotFound)
		return
	}
	v, err := s.School.ReopenSchool(c.Request.Context(), id)
	answer(c, http.StatusOK, v, err)
}
