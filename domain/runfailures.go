package domain

// RunFailure is why an office's run stopped before its end, as the school reads it on the run
// (GET /v1/offices/{ref}/runs, "failure"). The workflow picks it from the error that stopped
// the run; the workers' sweep, for a run that could not say it itself.
type RunFailure string

const (
	// RunFailureAccessRefused: the DSR refused Livret's own OAuth client (invalid_client).
	RunFailureAccessRefused RunFailure = "access_refused"
	// RunFailureDSRUnavailable: the DSR did not answer, through 24 hours of retries.
	RunFailureDSRUnavailable RunFailure = "dsr_unavailable"
	// RunFailureInternal: a fault of Livret's own (its database, a request the DSR calls
	// malformed, a bug).
	RunFailureInternal RunFailure = "internal"
	// RunFailureInterrupted: the run was cancelled, terminated or timed out, or its workflow
	// is lost.
	RunFailureInterrupted RunFailure = "interrupted"
)

// What happens next, said after every failure: nothing is lost, the daily run's load takes
// every lesson still pending from any earlier day (docs/architecture.md, step 4).
const runFailureNext = " Les leçons non envoyées restent en attente : elles partiront avec le prochain envoi quotidien, aucune n'est perdue."

var runFailureSentences = map[RunFailure]string{
	RunFailureAccessRefused: "L'envoi s'est arrêté : RdvPermis a refusé l'accès de Livret. " +
		"L'équipe technique de Livret doit rétablir cet accès ; elle peut ensuite relancer l'envoi." + runFailureNext,
	RunFailureDSRUnavailable: "L'envoi s'est arrêté : la DSR n'a pas répondu, même après 24 heures de nouvelles tentatives." +
		runFailureNext,
	RunFailureInternal: "L'envoi s'est arrêté sur un incident technique de Livret. " +
		"L'équipe technique de Livret peut relancer l'envoi." + runFailureNext,
	RunFailureInterrupted: "L'envoi a été interrompu avant sa fin." + runFailureNext,
}

// RunFailures lists every failure, for the tests.
func RunFailures() []RunFailure {
	return []RunFailure{RunFailureAccessRefused, RunFailureDSRUnavailable, RunFailureInternal, RunFailureInterrupted}
}

// Sentence is the French text the school reads: what happened, then what happens next. An
// unknown failure reads as Livret's own.
func (f RunFailure) Sentence() string {
	if s, ok := runFailureSentences[f]; ok {
		return s
	}
	return runFailureSentences[RunFailureInternal]
}
