package domain

// Code names why a lesson is not (yet) at the DSR. The nine DSR codes are the DSR's own; the
// others are Livret's, for what it can tell before any call.
type Code string

// The DSR's business refusals and protocol errors (docs/dsr.md, "Error catalogue").
const (
	CodeContratDejaConnu           Code = "CONTRAT_DEJA_CONNU"
	CodeAutoEcoleFermee            Code = "AUTO_ECOLE_FERMEE"
	CodeEleveIntrouvable           Code = "ELEVE_INTROUVABLE"
	CodeCategorieSansDemande       Code = "CATEGORIE_SANS_DEMANDE"
	CodeLeconFuture                Code = "LECON_FUTURE"
	CodeDureeInvalide              Code = "DUREE_INVALIDE"
	CodeContratNonAutorise         Code = "CONTRAT_NON_AUTORISE"
	CodeLeconEnDoublon             Code = "LECON_EN_DOUBLON"
	CodeFormatAutorisationInvalide Code = "FORMAT_AUTORISATION_INVALIDE"
	CodeTokenInvalide              Code = "TOKEN_INVALIDE"
	// CodeContratIntrouvable: a contract id the DSR does not know (not in the DSR's published
	// table; the sandbox answers it and Livret treats it as a refusal to show).
	CodeContratIntrouvable Code = "CONTRAT_INTROUVABLE"
	CodeTropDeRequetes     Code = "TROP_DE_REQUETES"
	// CodeTypeNonAutorise: the DSR refuses a type its contract's category does not take
	// (docs/dsr.md, "Categories and activity types").
	CodeTypeNonAutorise Code = "TYPE_NON_AUTORISE"
)

// Livret's own checks, made when a lesson is pushed in.
const (
	// Errors: the lesson should be sent, data must be fixed.
	CodeNEPHManquant            Code = "NEPH_MANQUANT"
	CodeNEPHInvalide            Code = "NEPH_INVALIDE"
	CodeEvaluationNonAcceptee   Code = "EVALUATION_NON_ACCEPTEE"
	CodeAutorisationManquante   Code = "AUTORISATION_MANQUANTE"
	CodeNumeroGeneriqueInterdit Code = "NUMERO_GENERIQUE_INTERDIT"
	CodeHorairesInvalides       Code = "HORAIRES_INVALIDES"
	CodeTypeIncompatible        Code = "TYPE_INCOMPATIBLE"
	// Not concerned: nothing to fix.
	CodeCategorieNonConcernee   Code = "CATEGORIE_NON_CONCERNEE" // scope guide: B only
	CodeCategorieNonTransmise   Code = "CATEGORIE_NON_TRANSMISE" // scope etendu: AM and others
	CodeBureauNonConnecte       Code = "BUREAU_NON_CONNECTE"
	CodeTypeNonConcerne         Code = "TYPE_NON_CONCERNE"
	CodePlanifieeAvantConnexion Code = "PLANIFIEE_AVANT_CONNEXION"
)

// Entry is one line of the error catalogue: what the admin reads and what to fix.
type Entry struct {
	Code Code
	// HTTPStatus is the status the DSR answers with (0 for Livret's own codes).
	HTTPStatus int
	// Message is the DSR's exact French wording, or Livret's own French sentence.
	Message string
	// Hint tells the admin, in French, which field to fix (docs/rules.md, "Messages and hints").
	Hint string
	// Status is what a lesson refused with this code becomes.
	Status Status
}

var catalogue = map[Code]Entry{
	CodeContratDejaConnu: {HTTPStatus: 409, Status: StatusError,
		Message: "Ce contrat de formation est déjà connu en base de données",
		Hint:    "Un élève avec le même nom et le même NEPH a déjà un contrat : vérifiez sa fiche élève."},
	CodeAutoEcoleFermee: {HTTPStatus: 403, Status: StatusError,
		Message: "L'auto-école est fermée",
		Hint:    "Votre auto-école est connue comme fermée auprès du BER : contactez directement votre BER."},
	CodeEleveIntrouvable: {HTTPStatus: 404, Status: StatusError,
		Message: "Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base",
		Hint:    "Vérifiez l'orthographe du nom et le NEPH dans la fiche élève."},
	CodeCategorieSansDemande: {HTTPStatus: 422, Status: StatusError,
		Message: "L'élève que vous recherchez n'a pas de demande pour cette catégorie de permis",
		Hint:    "Vérifiez la catégorie de permis de la fiche élève : l'élève ne semble pas avoir de demande ANTS validée pour celle-ci."},
	CodeLeconFuture: {HTTPStatus: 422, Status: StatusError,
		Message: "Il n'est pas possible de déclarer une leçon dans le futur",
		Hint:    "Seules les leçons jusqu'à la veille sont envoyées : vérifiez la date de la leçon, puis contactez la hotline si elle est passée."},
	CodeDureeInvalide: {HTTPStatus: 422, Status: StatusError,
		Message: "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min.",
		Hint:    "Modifiez les horaires de la leçon pour qu'elle dure entre 30 minutes et 4 heures."},
	CodeContratNonAutorise: {HTTPStatus: 403, Status: StatusError,
		Message: "Cette auto-école n'est pas autorisée à ajouter une leçon sur ce contrat",
		Hint:    "Ce contrat de formation est rattaché à une autre auto-école : contactez la hotline."},
	CodeLeconEnDoublon: {HTTPStatus: 409, Status: StatusError,
		Message: "Cet élève a déjà une leçon renseignée à cette date et à cette heure",
		Hint:    "Une leçon de cet élève à la même date et à la même heure est déjà à la DSR : planifiez-la à un autre moment."},
	CodeFormatAutorisationInvalide: {HTTPStatus: 422, Status: StatusError,
		Message: "Le format du numéro d'autorisation du formateur n'est pas valide.",
		Hint:    "Vérifiez le n° d'autorisation d'enseigner dans la fiche du formateur (A suivi de 10 chiffres)."},
	CodeContratIntrouvable: {HTTPStatus: 404, Status: StatusError,
		Message: "Contrat de formation introuvable",
		Hint:    "Le contrat de formation enregistré pour cet élève est inconnu de la DSR : contactez la hotline."},
	CodeTypeNonAutorise: {HTTPStatus: 422, Status: StatusError,
		Message: "Ce type de leçon n'est pas autorisé pour la catégorie de ce contrat de formation.",
		Hint:    "Vérifiez le type de la leçon et la formation (catégorie de permis) à laquelle elle est rattachée."},
	CodeTokenInvalide: {HTTPStatus: 401, Status: StatusPending,
		Message: "Jeton d'accès invalide ou expiré",
		Hint:    "La connexion au compte RdvPermis a expiré : reconnectez le bureau."},
	CodeTropDeRequetes: {HTTPStatus: 429, Status: StatusPending,
		Message: "Trop de requêtes",
		Hint:    "La DSR limite le nombre d'appels : la leçon sera envoyée automatiquement."},

	CodeNEPHManquant: {Status: StatusError,
		Message: "Le NEPH de l'élève n'est pas renseigné.",
		Hint:    "Renseignez le NEPH (12 chiffres) dans la fiche élève."},
	CodeNEPHInvalide: {Status: StatusError,
		Message: "Le NEPH de l'élève n'est pas valide : il doit comporter 12 chiffres.",
		Hint:    "Corrigez le NEPH dans la fiche élève."},
	CodeEvaluationNonAcceptee: {Status: StatusError,
		Message: "L'évaluation de départ de l'élève n'est pas acceptée.",
		Hint:    "Faites accepter l'évaluation de départ de l'élève dans sa fiche."},
	CodeAutorisationManquante: {Status: StatusError,
		Message: "Le numéro d'autorisation d'enseigner du formateur n'est pas renseigné.",
		Hint:    "Renseignez le n° d'autorisation d'enseigner dans la fiche du formateur."},
	CodeNumeroGeneriqueInterdit: {Status: StatusError,
		Message: "Le numéro générique A0000000000 n'est valable que pour une leçon sur simulateur sans formateur.",
		Hint:    "Choisissez le formateur qui a donné la leçon, ou un formateur « Simulateur » pour une leçon sur simulateur."},
	CodeHorairesInvalides: {Status: StatusError,
		Message: "L'heure de fin de la leçon est avant son heure de début.",
		Hint:    "Corrigez les horaires de la leçon."},

	CodeTypeIncompatible: {Status: StatusError,
		Message: "Ce type de leçon ne correspond pas à la catégorie de la formation de l'élève.",
		Hint:    "Choisissez un type de leçon de cette catégorie (plateau ou circulation pour la moto, conduite pour le permis B), ou rattachez la leçon à la bonne formation de l'élève."},

	CodeCategorieNonTransmise: {Status: StatusNotEligible,
		Message: "Leçon non concernée : les leçons de cette catégorie de permis ne sont pas transmises à la DSR.",
		Hint:    "Rien à faire."},
	CodeCategorieNonConcernee: {Status: StatusNotEligible,
		Message: "Leçon non concernée : seuls les élèves en permis B sont transmis à la DSR.",
		Hint:    "Rien à faire. Pour transmettre aussi les leçons moto et poids lourds, passez l'auto-école au périmètre « étendu » (page Paramètres)."},
	CodeBureauNonConnecte: {Status: StatusNotEligible,
		Message: "Leçon non concernée : le bureau n'est pas connecté à un compte RdvPermis.",
		Hint:    "Connectez le bureau à un compte RdvPermis pour transmettre ses leçons."},
	CodeTypeNonConcerne: {Status: StatusNotEligible,
		Message: "Leçon non concernée : ce type de leçon n'est pas transmis à la DSR.",
		Hint:    "Rien à faire."},
	CodePlanifieeAvantConnexion: {Status: StatusNotEligible,
		Message: "Leçon non concernée : elle a été planifiée avant la connexion du bureau à RdvPermis.",
		Hint:    "Rien à faire : seules les leçons planifiées après la connexion sont transmises."},
}

func init() {
	for code, e := range catalogue {
		e.Code = code
		catalogue[code] = e
	}
}

// Lookup returns the catalogue entry of a code.
func Lookup(c Code) (Entry, bool) {
	e, ok := catalogue[c]
	return e, ok
}

// DSRCodes lists the codes the DSR itself answers with, in the order of docs/dsr.md ("Error catalogue").
func DSRCodes() []Code {
	return []Code{CodeContratDejaConnu, CodeAutoEcoleFermee, CodeEleveIntrouvable,
		CodeCategorieSansDemande, CodeLeconFuture, CodeDureeInvalide, CodeContratNonAutorise,
		CodeLeconEnDoublon, CodeFormatAutorisationInvalide, CodeTypeNonAutorise}
}

// LivretCodes lists Livret's own codes, those that put a lesson in error then those that make
// it not concerned, in the order of docs/rules.md ("Messages and hints").
func LivretCodes() []Code {
	return []Code{CodeNEPHManquant, CodeNEPHInvalide, CodeEvaluationNonAcceptee, CodeAutorisationManquante,
		CodeNumeroGeneriqueInterdit, CodeHorairesInvalides, CodeTypeIncompatible,
		CodeCategorieNonConcernee, CodeCategorieNonTransmise, CodeBureauNonConnecte, CodeTypeNonConcerne, CodePlanifieeAvantConnexion}
}

// Message is the French text of a code, or the code itself when unknown.
func (c Code) Message() string {
	if e, ok := catalogue[c]; ok {
		return e.Message
	}
	return string(c)
}

// Hint is the French "what to fix" of a code, empty when unknown.
func (c Code) Hint() string { return catalogue[c].Hint }

// FixInSoftware is what the admin reads under a lesson stopped by Livret's own checks
// (OriginLivret): the fix is made where the data comes from, and the lesson is judged again
// by itself, so resending it cannot help (docs/rules.md, "Resending").
const FixInSoftware = "Corrigez-la dans votre logiciel de gestion : dès que la correction arrive dans Livret, la leçon repart d'elle-même, sans la renvoyer."
