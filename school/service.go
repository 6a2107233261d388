package school

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"livret/db"
	"livret/domain"
)

// Orchestrator is what the use cases ask of Temporal. *worker.Orchestrator implements it; the
// interface keeps this package free of the worker's wiring.
type Orchestrator interface {
	StartRun(ctx context.Context, schoolID, officeID int64) (workflowID, runID string, err error)
	Resend(ctx context.Context, schoolID, officeID, lessonID int64) (workflowID, runID string, err error)
	EnsureSchedule(ctx context.Context, schoolID, officeID int64) error
	DeleteSchedule(ctx context.Context, officeID int64) error
	EnsureKeeper(ctx context.Context, accountID int64) error
	// WakeWebhook makes sure the subscription's dispatcher runs and looks at its pending
	// deliveries now (starting it when it does not run).
	WakeWebhook(ctx context.Context, webhookID int64) error
	Ready(ctx context.Context) error
	// DailyTime is the daily run's time of day, Paris time: what a pending lesson's due_on
	// and an office's next run are computed from.
	DailyTime() (hour, minute int)
}

// Identity is whose RdvPermis account a token opens.
type Identity struct {
	AccountID string // the DSR's compte_id
	Email     string
	Agrement  string // the account's school, as the DSR gives it
}

// RdvPermis is what linking an office asks of the DSR's login. Its errors may have a
// Retryable() bool method (dsr.Error does): a retryable one means RdvPermis did not answer.
type RdvPermis interface {
	Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error)
	Identify(ctx context.Context, tok *oauth2.Token) (Identity, error)
}

// Service holds the use cases' dependencies. Fill every field.
type Service struct {
	Pool   *pgxpool.Pool
	Sealer *db.Sealer
	Tokens *db.TokenStore
	// RdvPermis exchanges OAuth codes and identifies accounts.
	RdvPermis RdvPermis
	// OAuth builds the RdvPermis authorization URL.
	OAuth *oauth2.Config
	// RdvPermisLogoutURL is shown with the linking warning: logging out there is how an admin
	// links an office to another account (docs/rules.md, "Linking offices").
	RdvPermisLogoutURL string
	Orchestrator       Orchestrator
	// DefaultScope is what a new school sends until it says otherwise (LIVRET_DEFAULT_SCOPE);
	// empty is guide.
	DefaultScope domain.Scope
	// BatchWorkers is how many items of one list a bulk sync applies at once; 0 (the
	// deployments' setting) derives it from the pool's size. The benchmark sets it.
	BatchWorkers int
	// ETPWindowMonths is the deployment's ETP window (LIVRET_ETP_WINDOW_MONTHS); 0 keeps
	// domain's table (3 months).
	ETPWindowMonths int
	// ETPHoursPerETP is the deployment's counted hours per full-time instructor over the
	// window (LIVRET_ETP_HOURS_PER_ETP); 0: no estimate anywhere.
	ETPHoursPerETP float64
	// SendMail sends the people's invitations and reset links; PublicURL (LIVRET_PUBLIC_URL)
	// is the base of those links.
	SendMail  MailSender
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// orchestratorProblem logs a Temporal failure and answers 503 with a French explanation.
func (s *Service) orchestratorProblem(ctx context.Context, detail string, err error) *Problem {
	s.log().ErrorContext(ctx, "temporal call failed", "error", err.Error())
	return Unavailable(detail)
}
