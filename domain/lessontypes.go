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
)

type lessonTypeInfo struct {
	label string // the vendor guide's French label, as the report shows it
	// dsrType is the DSR's lesson type; empty means the type is stored but never sent.
	dsrType   string
	simulator bool
}

var lessonTypeTable = map[LessonType]lessonTypeInfo{
	TypeConduite:                 {label: "Leçon de conduite", dsrType: "CONDUITE"},
	TypeConduiteBoiteAuto:        {label: "Leçon de conduite Boîte Auto", dsrType: "CONDUITE_BOITE_AUTO"},
	TypeSimulateur:               {label: "Simulateur", dsrType: "SIMULATEUR", simulator: true},
	TypeSimulateurBoiteAuto:      {label: "Simulateur Boîte Auto", dsrType: "SIMULATEUR_BOITE_AUTO", simulator: true},
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
}

// LessonTypes lists every known type in the vendor guide's order, sent types first.
func LessonTypes() []LessonType {
	return []LessonType{TypeConduite, TypeConduiteBoiteAuto, TypeSimulateur, TypeSimulateurBoiteAuto,
		TypeCode, TypeEvaluationDepart, TypeEvaluationDepartLogiciel, TypeEvaluationSynthese,
		TypeExamenBlanc, TypeExamenPratiqueB, TypeAccompagnementETG, TypePerfectionnement,
		TypeRVPPrealable, TypeRVPPratique, TypeRVPTheorique, TypeAutre}
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

// Sent reports whether lessons of this type are declared to the DSR.
func (t LessonType) Sent() bool { return lessonTypeTable[t].dsrType != "" }

// DSRType is the type in the DSR's vocabulary ("CONDUITE"…), empty when never sent.
func (t LessonType) DSRType() string { return lessonTypeTable[t].dsrType }

// Simulator reports whether the lesson is taken on a simulator.
func (t LessonType) Simulator() bool { return lessonTypeTable[t].simulator }

// DSRLessonTypes are the four types the DSR accepts.
func DSRLessonTypes() []string {
	return []string{"CONDUITE", "CONDUITE_BOITE_AUTO", "SIMULATEUR", "SIMULATEUR_BOITE_AUTO"}
}
