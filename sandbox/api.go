package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// codeRessourceIntrouvable answers an /api path the DSR does not serve.
const codeRessourceIntrouvable Code = "RESSOURCE_INTROUVABLE"

type meResponse struct {
	CompteID  string      `json:"compte_id"`
	Email     string      `json:"email"`
	AutoEcole meAutoEcole `json:"auto_ecole"`
}

type meAutoEcole struct {
	Agrement string `json:"agrement"`
	Nom      string `json:"nom"`
	Statut   string `json:"statut"`
}

func (s *Server) handleMe(w http.ResponseWriter, _ *http.Request, c caller) {
	s.mu.Lock()
	sc := s.schoolOf(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, meResponse{
		CompteID: c.compteID, Email: c.email,
		AutoEcole: meAutoEcole{Agrement: sc.Agrement, Nom: sc.Nom, Statut: sc.Statut},
	})
}

// schoolOf is the caller's school. The caller holds s.mu.
func (s *Server) schoolOf(c caller) school {
	if sc := s.st.Schools[c.agrement]; sc != nil {
		return *sc
	}
	return school{Agrement: c.agrement, Statut: StatutOuverte}
}

func (s *Server) schoolClosed(c caller) bool { return s.schoolOf(c).Statut == StatutFermee }

type contractResponse struct {
	IDContrat string `json:"id_contrat"`
	NEPH      string `json:"neph"`
	Nom       string `json:"nom"`
	Prenom    string `json:"prenom"`
	Categorie string `json:"categorie"`
}

func (s *Server) handleCreateContract(w http.ResponseWriter, r *http.Request, c caller) {
	var neph, nom, prenom, categorie string
	if err := decodeObject(w, r,
		field{"neph", true, &neph},
		field{"nom", true, &nom},
		field{"prenom", true, &prenom},
		field{"categorie", true, &categorie},
	); err != nil {
		writeBadRequest(w, err)
		return
	}
	// A category the DSR has no contracts for is a malformed request, refused before any rule,
	// as an ill-typed field is: no ANTS record can make it a contract.
	categorie = normalizeCategory(categorie)
	if !knownCategory(categorie) {
		writeBadRequest(w, badRequestf("Le champ « categorie » doit valoir %s.", strings.Join(categoryNames, ", ")))
		return
	}
	s.mu.Lock()
	code, created := s.createContract(c, neph, nom, prenom, categorie)
	drop := s.st.Faults.DropAfterCommitRate
	s.mu.Unlock()
	if code != "" {
		writeCode(w, code)
		return
	}
	s.changed()
	s.log.Debug("sandbox: contract created", "id_contrat", created.IDContrat, "compte_id", c.compteID)
	if s.chance(drop) {
		s.dropAfterCommit(w)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id_contrat": created.IDContrat})
}

// createContract applies the DSR's contract rules in order; categorie is already normalised
// and known. A contract is per student and category: the same NEPH may hold one for B and one
// for A2, but a second one for a category it already has, at this school or another, is
// CONTRAT_DEJA_CONNU. The caller holds s.mu.
func (s *Server) createContract(c caller, neph, nom, prenom, categorie string) (Code, *contract) {
	if s.schoolClosed(c) {
		return codeAutoEcoleFermee, nil
	}
	student := s.st.Students[strings.TrimSpace(neph)]
	if student == nil || !sameName(student.Nom, nom) {
		return codeEleveIntrouvable, nil
	}
	if !slices.Contains(student.Categories, categorie) {
		return codeCategorieSansDemande, nil
	}
	if s.st.contractByKey[contractKey(student.NEPH, categorie)] != nil {
		return codeContratDejaConnu, nil
	}
	ct := &contract{
		IDContrat: newID("CF-"), NEPH: student.NEPH, Nom: strings.TrimSpace(nom), Prenom: strings.TrimSpace(prenom),
		Categorie: categorie, Agrement: c.agrement, CompteID: c.compteID, CreeLe: s.now(),
	}
	s.st.Contracts = append(s.st.Contracts, ct)
	s.st.addContract(ct)
	return "", ct
}

func (s *Server) handleFindContracts(w http.ResponseWriter, r *http.Request, c caller) {
	neph, err := requiredQuery(r, "neph")
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	s.mu.Lock()
	if s.schoolClosed(c) {
		s.mu.Unlock()
		writeCode(w, codeAutoEcoleFermee)
		return
	}
	// Every category's contract of the student, each naming its categorie, in creation order.
	out := []contractResponse{}
	for _, ct := range s.st.contractsByNEPH[neph] {
		// Every account of the school sees the school's contracts (decentralised management).
		if ct.Agrement == c.agrement {
			out = append(out, contractResponse{IDContrat: ct.IDContrat, NEPH: ct.NEPH, Nom: ct.Nom, Prenom: ct.Prenom, Categorie: ct.Categorie})
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// lessonRequest is the body of a lesson declaration.
type lessonRequest struct {
	debut, fin                     time.Time
	typ, autorisation, nom, prenom string
}

func (s *Server) handleDeclareLesson(w http.ResponseWriter, r *http.Request, c caller) {
	var req lessonRequest
	if err := decodeObject(w, r,
		field{"debut", true, &req.debut},
		field{"fin", true, &req.fin},
		field{"type", true, &req.typ},
		field{"numero_autorisation_formateur", true, &req.autorisation},
		field{"nom_formateur", true, &req.nom},
		field{"prenom_formateur", true, &req.prenom},
	); err != nil {
		writeBadRequest(w, err)
		return
	}
	s.mu.Lock()
	code, badType, stored := s.declareLesson(c, r.PathValue("id_contrat"), req)
	drop := s.st.Faults.DropAfterCommitRate
	s.mu.Unlock()
	switch {
	case badType:
		writeBadRequest(w, badRequestf("Le champ « type » doit valoir %s.", strings.Join(lessonTypes, ", ")))
		return
	case code != "":
		writeCode(w, code)
		return
	}
	s.changed()
	s.log.Debug("sandbox: lesson stored", "id_lecon", stored.IDLecon, "id_contrat", stored.IDContrat, "compte_id", c.compteID)
	if s.chance(drop) {
		s.dropAfterCommit(w)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id_lecon": stored.IDLecon})
}

// declareLesson applies the DSR's lesson rules in the contract's order. The type comes after
// the duration and authorisation checks, as it always has: first whether it is a DSR type at
// all (400), then whether the contract's category takes it (TYPE_NON_AUTORISE). Both come
// before the duplicate check, so a refused type never counts as a duplicate refused. The
// caller holds s.mu.
func (s *Server) declareLesson(c caller, idContrat string, req lessonRequest) (code Code, badType bool, stored *lesson) {
	ct := s.st.contractByID[idContrat]
	switch {
	case ct == nil:
		return CodeContratIntrouvable, false, nil
	case ct.Agrement != c.agrement:
		return codeContratNonAutorise, false, nil
	case s.schoolClosed(c):
		return codeAutoEcoleFermee, false, nil
	case req.fin.After(s.now()):
		return codeLeconFuture, false, nil
	}
	if !validDuration(req.debut, req.fin) {
		return codeDureeInvalide, false, nil
	}
	if !validAuthorization(req.autorisation) {
		return codeFormatAutorisationInvalide, false, nil
	}
	if !slices.Contains(lessonTypes, req.typ) {
		return "", true, nil
	}
	if !typeAllowed(ct.Categorie, req.typ) {
		return codeTypeNonAutorise, false, nil
	}
	// Per contract, not per NEPH: a THEORIE class holds several students with one instructor
	// at one start, each on their own contract, and each is accepted.
	slot := lessonSlot(ct.IDContrat, req.debut)
	if s.st.lessonSlots[slot] {
		s.st.DuplicatesRefused++
		return codeLeconEnDoublon, false, nil
	}
	l := &lesson{
		IDLecon: newID("LC-"), IDContrat: ct.IDContrat, Debut: req.debut, Fin: req.fin, Type: req.typ,
		Autorisation: req.autorisation, NomFormateur: req.nom, PrenomFormateur: req.prenom,
		RecuLe: s.now(), CompteID: c.compteID,
	}
	s.st.Lessons = append(s.st.Lessons, l)
	s.st.addLesson(l)
	return "", false, l
}

type lessonResponse struct {
	IDLecon      string `json:"id_lecon"`
	Debut        string `json:"debut"`
	Fin          string `json:"fin"`
	Type         string `json:"type"`
	Autorisation string `json:"numero_autorisation_formateur"`
}

func (s *Server) handleListLessons(w http.ResponseWriter, r *http.Request, c caller) {
	var du, au string
	for _, p := range []struct {
		name string
		dst  *string
	}{{"du", &du}, {"au", &au}} {
		v, err := requiredQuery(r, p.name)
		if err != nil {
			writeBadRequest(w, err)
			return
		}
		if !validDate(v) {
			writeBadRequest(w, badRequestf("Le paramètre « %s » doit être une date AAAA-MM-JJ.", p.name))
			return
		}
		*p.dst = v
	}
	s.mu.Lock()
	ct := s.st.contractByID[r.PathValue("id_contrat")]
	var code Code
	switch {
	case ct == nil:
		code = CodeContratIntrouvable
	case ct.Agrement != c.agrement:
		code = codeContratNonAutorise
	case s.schoolClosed(c):
		code = codeAutoEcoleFermee
	}
	if code != "" {
		s.mu.Unlock()
		writeCode(w, code)
		return
	}
	var found []*lesson
	for _, l := range s.st.lessonsByContract[ct.IDContrat] {
		// Dates are Paris calendar days, inclusive, on the lesson's start; YYYY-MM-DD strings
		// compare in calendar order.
		if d := parisDate(l.Debut); d >= du && d <= au {
			found = append(found, l)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(found, func(x, y *lesson) int { return x.Debut.Compare(y.Debut) })
	out := make([]lessonResponse, 0, len(found))
	for _, l := range found {
		out = append(out, lessonResponse{
			IDLecon: l.IDLecon, Debut: formatDSRTime(l.Debut), Fin: formatDSRTime(l.Fin),
			Type: l.Type, Autorisation: l.Autorisation,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleUnknownAPI(w http.ResponseWriter, r *http.Request, _ caller) {
	writeJSON(w, http.StatusNotFound, errorBody{codeRessourceIntrouvable, "Ressource inconnue : " + r.Method + " " + r.URL.Path})
}
