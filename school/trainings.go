package school

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"livret/db/dbq"
	"livret/domain"
)

// A student follows one training per licence category, each with its own initial
// evaluation and its own training contract at the DSR (docs/rules.md, "Trainings").

// TrainingInput is one training of PUT /v1/students/{ref}'s "trainings".
type TrainingInput struct {
	Category                  string `json:"category"`
	InitialEvaluationAccepted bool   `json:"initial_evaluation_accepted"`
}

// Training is a student's training as the API answers it, with its contract at the DSR.
type Training struct {
	Category                  string   `json:"category"`
	CategoryLabel             string   `json:"category_label"`
	InitialEvaluationAccepted bool     `json:"initial_evaluation_accepted"`
	Contract                  Contract `json:"contract"`
}

// Contract states: none yet (created by the first run that sends one of the training's
// lessons), created (or found) at the DSR, or refused by it (Message in the DSR's words).
const (
	ContractNone    = "none"
	ContractCreated = "created"
	ContractError   = "error"
)

// Contract is a training's contract at the DSR.
type Contract struct {
	Status  string  `json:"status"`
	Message *string `json:"message"`
	Hint    *string `json:"hint"`
}

func newTraining(r dbq.TrainingListRow) Training {
	t := Training{Category: r.Category, CategoryLabel: domain.Category(r.Category).Label(),
		InitialEvaluationAccepted: r.InitialEvaluationAccepted, Contract: Contract{Status: ContractNone}}
	switch {
	case r.DsrContractID != nil:
		t.Contract.Status = ContractCreated
	case r.ContractCode != "":
		t.Contract = Contract{Status: ContractError, Message: nonEmpty(r.ContractMessage),
			Hint: nonEmpty(domain.Code(r.ContractCode).Hint())}
	}
	return t
}

// studentTrainings reads the trainings of some students, by student id.
func studentTrainings(ctx context.Context, q *dbq.Queries, schoolID int64, ids []int64) (map[int64][]dbq.TrainingListRow, error) {
	rows, err := q.TrainingList(ctx, dbq.TrainingListParams{SchoolID: schoolID, StudentIds: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]dbq.TrainingListRow, len(ids))
	for _, r := range rows {
		out[r.StudentID] = append(out[r.StudentID], r)
	}
	return out, nil
}

// parseTrainings reads a student's trainings from either form of the PUT: "trainings" (all of
// the student's trainings) or the one-training form "category" + "initial_evaluation_accepted"
// (that training only; the student's others are kept). all says which.
func parseTrainings(in StudentInput, errs *fieldErrors) (list []TrainingInput, all bool) {
	if in.Trainings == nil {
		category, ok := domain.ParseCategory(in.Category)
		if !ok {
			errs.add("category", "Catégorie de permis inconnue. Valeurs possibles : "+categoryList()+".")
		}
		return []TrainingInput{{Category: string(category), InitialEvaluationAccepted: in.InitialEvaluationAccepted}}, false
	}
	if in.Category != "" {
		errs.add("category", "Donnez soit « category », soit « trainings », pas les deux.")
	}
	if len(*in.Trainings) == 0 {
		errs.add("trainings", "Au moins une formation : par exemple [{\"category\": \"B\", \"initial_evaluation_accepted\": true}].")
	}
	if len(*in.Trainings) > len(domain.Categories()) {
		errs.add("trainings", "Une formation par catégorie de permis au plus.")
		return nil, true
	}
	var seen []string
	for i, t := range *in.Trainings {
		field := "trainings[" + strconv.Itoa(i) + "].category"
		c, ok := domain.ParseCategory(t.Category)
		switch {
		case !ok:
			errs.add(field, "Catégorie de permis inconnue. Valeurs possibles : "+categoryList()+".")
		case slices.Contains(seen, string(c)):
			errs.add(field, "Catégorie "+string(c)+" donnée deux fois : une formation par catégorie.")
		default:
			seen = append(seen, string(c))
			list = append(list, TrainingInput{Category: string(c), InitialEvaluationAccepted: t.InitialEvaluationAccepted})
		}
	}
	return list, true
}

// saveTrainings writes the student's trainings. With all, the trainings not listed go; one
// that has lessons (or a contract) cannot, and the whole PUT is refused naming it. The
// one-training form on a student who has one training of another category changes that
// training's category, as it changed the student's before trainings existed — unless the DSR
// holds a contract of the old category: then the new one must be added with "trainings".
func saveTrainings(ctx context.Context, q *dbq.Queries, schoolID, studentID int64, list []TrainingInput, all bool, errs *fieldErrors) error {
	if !all && len(list) == 1 {
		current, err := studentTrainings(ctx, q, schoolID, []int64{studentID})
		if err != nil {
			return err
		}
		if ts := current[studentID]; len(ts) == 1 && ts[0].Category != list[0].Category {
			old, next := domain.Category(ts[0].Category), domain.Category(list[0].Category)
			if ts[0].DsrContractID != nil && old.DSRCode() != next.DSRCode() {
				errs.add("category", "L'élève a déjà un contrat de formation "+old.DSRCode()+" à la DSR : pour une nouvelle catégorie, envoyez ses formations avec « trainings » (par exemple [{\"category\": \""+string(old)+"\"}, {\"category\": \""+string(next)+"\"}]).")
				return nil
			}
			_, err := q.TrainingRecategorize(ctx, dbq.TrainingRecategorizeParams{SchoolID: schoolID, ID: ts[0].ID,
				Category: list[0].Category, InitialEvaluationAccepted: list[0].InitialEvaluationAccepted})
			return err
		}
	}
	keep := make([]string, 0, len(list))
	for _, t := range list {
		if _, err := q.TrainingUpsert(ctx, dbq.TrainingUpsertParams{SchoolID: schoolID, StudentID: studentID,
			Category: t.Category, InitialEvaluationAccepted: t.InitialEvaluationAccepted}); err != nil {
			return err
		}
		keep = append(keep, t.Category)
	}
	if !all {
		return nil
	}
	if _, err := q.TrainingDeleteUnused(ctx, dbq.TrainingDeleteUnusedParams{SchoolID: schoolID, StudentID: studentID, Keep: keep}); err != nil {
		return err
	}
	kept, err := q.TrainingListKept(ctx, dbq.TrainingListKeptParams{SchoolID: schoolID, StudentID: studentID, Keep: keep})
	if err != nil {
		return err
	}
	if len(kept) > 0 {
		errs.add("trainings", "La formation "+strings.Join(kept, ", ")+" a déjà des leçons ou un contrat de formation : elle ne peut pas être retirée. Gardez-la dans « trainings ».")
	}
	return nil
}

// lessonTraining finds the training a lesson is written on: the one of its "category", which
// may be left out only when the student has a single training.
func lessonTraining(trainings []dbq.TrainingListRow, category *string, errs *fieldErrors) (dbq.TrainingListRow, bool) {
	if category == nil || *category == "" {
		if len(trainings) == 1 {
			return trainings[0], true
		}
		if len(trainings) > 1 {
			errs.add("category", "Champ obligatoire : l'élève suit plusieurs formations ("+trainingList(trainings)+") ; indiquez celle de la leçon.")
		}
		return dbq.TrainingListRow{}, false
	}
	c, ok := domain.ParseCategory(*category)
	if !ok {
		errs.add("category", "Catégorie de permis inconnue. Valeurs possibles : "+categoryList()+".")
		return dbq.TrainingListRow{}, false
	}
	for _, t := range trainings {
		if t.Category == string(c) {
			return t, true
		}
	}
	if len(trainings) > 0 {
		errs.add("category", "L'élève ne suit pas de formation "+string(c)+" (ses formations : "+trainingList(trainings)+") : ajoutez-la d'abord (PUT /v1/students/{ref}).")
	}
	return dbq.TrainingListRow{}, false
}

func trainingList(ts []dbq.TrainingListRow) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Category
	}
	return strings.Join(names, ", ")
}
