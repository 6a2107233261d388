package domain

// LessonType is the kind of event as the management software sends it (docs/rules.md, "What is sent", rule 6).
type LessonType string

const (
	TypeConduite                 LessonType = "conduite"
	TypeConduiteBoiteAuto        LessonType = "conduite_boite_auto"
	TypeSimulateur               LessonType = "simulateur"
	TypeSimulateurBoiteAuto      LessonType = "simulateur_boite_auto"
	TypeCode                     LessonType = "code"
	TypeEvaluationDepart         LessonType = "evaluation_depart"
	TypeEvaluationDepartLogiciel LessonType = "evaluation_depart_logiciel"
	TypeEvaluationSynthese       LessonType = "evaluation_synthese"
	TypeExamenBlanc              LessonType = "examen_blanc"
	TypeExamenPratiqueB          LessonType = "examen_pratique_b"
	TypeAccompagnementETG        LessonType = "accompagnement_etg"
	TypePerfectionnement         LessonType = "perfectionnement"
	TypeRVPPrealable             LessonType = "rvp_prealable"
	TypeRVPPratique              LessonType = "rvp_pratique"
	TypeRVPTheorique             LessonType = "rvp_theorique"
	TypeAutre                    LessonType = "autre"
	// Motorcycle and heavy-vehicle practice (docs/rules.md, "The sending table").
	TypePlateau        LessonType = "plateau"
	TypeCirculation    LessonType = "circulation"
	TypeSimulateurMoto LessonType = "simulateur_moto"
)

type lessonTypeInfo struct {
	label     string // the vendor guide's French label, as the report shows it
	simulator bool
	// practice: a driving lesson proper, which belongs to one category group; a practice type
	// on a training of another group is a mistake to fix (TYPE_INCOMPATIBLE), not a lesson
	// that is merely not sent.
	practice bool
}

var lessonTypeTable = map[LessonType]lessonTypeInfo{
	TypeConduite:                 {label: "Leçon de conduite", practice: true},
	TypeConduiteBoiteAuto:        {label: "Leçon de conduite Boîte Auto", practice: true},
	TypeSimulateur:               {label: "Simulateur", simulator: true, practice: true},
	TypeSimulateurBoiteAuto:      {label: "Simulateur Boîte Auto", simulator: true, practice: true},
	TypeCode:                     {label: "Cours de code"},
	TypeEvaluationDepart:         {label: "Évaluation de départ"},
	TypeEvaluationDepartLogiciel: {label: "Évaluation de départ (logiciel)"},
	TypeEvaluationSynthese:       {label: "Évaluation de synthèse"},
	TypeExamenBlanc:              {label: "Examen blanc"},
	TypeExamenPratiqueB:          {label: "Examen Pratique B"},
	TypeAccompagnementETG:        {label: "Accompagnement ETG"},
	TypePerfectionnement:         {label: "Perfectionnement conducteur"},
	TypeRVPPrealable:             {label: "RVP préalable"},
	TypeRVPPratique:              {label: "RVP pratique"},
	TypeRVPTheorique:             {label: "RVP théorique"},
	TypeAutre:                    {label: "Autres"},
	TypePlateau:                  {label: "Plateau", practice: true},
	TypeCirculation:              {label: "Circulation", practice: true},
	TypeSimulateurMoto:           {label: "Simulateur moto", simulator: true, practice: true},
}

// LessonTypes lists every known type in the vendor guide's order, sent types first.
func LessonTypes() []LessonType {
	return []LessonType{TypeConduite, TypeConduiteBoiteAuto, TypeSimulateur, TypeSimulateurBoiteAuto,
		TypeCode, TypeEvaluationDepart, TypeEvaluationDepartLogiciel, TypeEvaluationSynthese,
		TypeExamenBlanc, TypeExamenPratiqueB, TypeAccompagnementETG, TypePerfectionnement,
		TypeRVPPrealable, TypeRVPPratique, TypeRVPTheorique, TypeAutre,
		TypePlateau, TypeCirculation, TypeSimulateurMoto}
}

// ParseLessonType accepts a known type.
func ParseLessonType(s string) (LessonType, bool) {
	t := LessonType(s)
	_, ok := lessonTypeTable[t]
	return t, ok
}

// Label is the vendor guide's French label for the type.
func (t LessonType) Label() string {
	if info, ok := lessonTypeTable[t]; ok {
		return info.label
	}
	return string(t)
}

// Simulator reports whether the lesson is taken on a simulator.
func (t LessonType) Simulator() bool { return lessonTypeTable[t].simulator }

// Practice reports whether the type is a driving lesson proper (see lessonTypeInfo.practice).
func (t LessonType) Practice() bool { return lessonTypeTable[t].practice }
