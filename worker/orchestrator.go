// Package worker wires Livret onto Temporal: the worker process (registration, rate limits,
// metrics) and the Orchestrator that the web API and the link flow use to start runs and keep
// each office's Schedule.
package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"livret/domain"
	"livret/workflows"
)

// Orchestrator starts and schedules Livret's workflows through a Temporal client.
type Orchestrator struct {
	Client client.Client
	// DailyHour and DailyMinute are the office runs' local time (Europe/Paris), e.g. 01:30.
	DailyHour, DailyMinute int
	// CatchupWindow bounds how late a missed scheduled run still starts (Temporal's default
	// is a year); a day missed beyond it is still caught up by the next run's load.
	CatchupWindow time.Duration
	// Now is the clock used for the manual run's business date.
	Now func() time.Time
	// DigestHour and DigestMinute are the daily digests' local time (Europe/Paris), e.g. 07:00.
	DigestHour, DigestMinute int
	// DigestCatchupWindow bounds how late a missed digest run still starts; a day missed
	// beyond it loses nothing: the next day's digests take its events.
	DigestCatchupWindow time.Duration
}

// NewOrchestrator returns an Orchestrator with the defaults: runs at 01:30 Paris with 3 days
// of catch-up, digests at 07:00 Paris with 6 hours of catch-up.
func NewOrchestrator(c client.Client) *Orchestrator {
	return &Orchestrator{Client: c, DailyHour: 1, DailyMinute: 30, CatchupWindow: 72 * time.Hour, Now: time.Now,
		DigestHour: 7, DigestMinute: 0, DigestCatchupWindow: 6 * time.Hour}
}

func searchAttributes(schoolID, officeID int64, businessDate string) temporal.SearchAttributes {
	updates := []temporal.SearchAttributeUpdate{
		workflows.SchoolIDKey.ValueSet(schoolID),
		workflows.OfficeIDKey.ValueSet(officeID),
	}
	if businessDate != "" {
		updates = append(updates, workflows.BusinessDateKey.ValueSet(businessDate))
	}
	return temporal.NewSearchAttributes(updates...)
}

// StartRun starts an office's run now. If that office's run of the day is already going
// (scheduled or manual), it returns that one instead of starting a second side by side.
func (o *Orchestrator) StartRun(ctx context.Context, schoolID, officeID int64) (workflowID, runID string, err error) {
	date := domain.BusinessDate(o.Now())
	run, err := o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.RunID(officeID, date),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    searchAttributes(schoolID, officeID, date),
	}, workflows.OfficeDailyRunName, workflows.OfficeRunInput{
		SchoolID: schoolID, OfficeID: officeID, BusinessDate: date, Trigger: "manual",
	})
	if err != nil {
		return "", "", fmt.Errorf("start run of office %d: %w", officeID, err)
	}
	return run.GetID(), run.GetRunID(), nil
}

// Resend starts the resend of one lesson (already put back to pending by the caller).
func (o *Orchestrator) Resend(ctx context.Context, schoolID, officeID, lessonID int64) (workflowID, runID string, err error) {
	run, err := o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ResendID(lessonID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    searchAttributes(schoolID, officeID, domain.BusinessDate(o.Now())),
	}, workflows.ResendLessonName, workflows.ResendInput{SchoolID: schoolID, OfficeID: officeID, LessonID: lessonID})
	if err != nil {
		return "", "", fmt.Errorf("start resend of lesson %d: %w", lessonID, err)
	}
	return run.GetID(), run.GetRunID(), nil
}

// EnsureSchedule creates the office's daily Schedule, or updates it when it exists: calling
// it twice (a retried link) leaves exactly one Schedule.
func (o *Orchestrator) EnsureSchedule(ctx context.Context, schoolID, officeID int64) error {
	return o.ensureSchedule(ctx, o.scheduleOptions(schoolID, officeID), fmt.Sprintf("office %d", officeID))
}

// ensureSchedule creates a Schedule, or brings the one of that id to opts' spec, action and
// policies.
func (o *Orchestrator) ensureSchedule(ctx context.Context, opts client.ScheduleOptions, what string) error {
	_, err := o.Client.ScheduleClient().Create(ctx, opts)
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule of %s: %w", what, err)
	}
	h := o.Client.ScheduleClient().GetHandle(ctx, opts.ID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &opts.Spec
			s.Action = opts.Action
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = opts.Overlap
			s.Policy.CatchupWindow = opts.CatchupWindow
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule of %s: %w", what, err)
	}
	return nil
}

func (o *Orchestrator) scheduleOptions(schoolID, officeID int64) client.ScheduleOptions {
	return client.ScheduleOptions{
		ID: workflows.ScheduleID(officeID),
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{
				Hour:   []client.ScheduleRange{{Start: o.DailyHour}},
				Minute: []client.ScheduleRange{{Start: o.DailyMinute}},
			}},
			// Explicit: the run's hour follows French local time across DST changes.
			TimeZoneName: domain.Paris.String(),
		},
		Action: &client.ScheduleWorkflowAction{
			// Temporal appends the scheduled time to this id.
			ID:                    workflows.ScheduleID(officeID),
			Workflow:              workflows.ScheduledOfficeRunName,
			Args:                  []any{workflows.ScheduledRunInput{SchoolID: schoolID, OfficeID: officeID}},
			TaskQueue:             workflows.TaskQueue,
			TypedSearchAttributes: searchAttributes(schoolID, officeID, ""),
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: o.CatchupWindow,
	}
}

// EnsureDigestSchedule creates the daily digests' Schedule (livret-digest, 07:00 Paris), or
// updates it when it exists: every worker with a mailer calls it at start.
func (o *Orchestrator) EnsureDigestSchedule(ctx context.Context) error {
	opts := client.ScheduleOptions{
		ID: workflows.DigestScheduleID,
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{
				Hour:   []client.ScheduleRange{{Start: o.DigestHour}},
				Minute: []client.ScheduleRange{{Start: o.DigestMinute}},
			}},
			TimeZoneName: domain.Paris.String(),
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        workflows.DigestScheduleID,
			Workflow:  workflows.DailyDigestName,
			Args:      []any{workflows.DailyDigestInput{}},
			TaskQueue: workflows.TaskQueue,
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: o.DigestCatchupWindow,
	}
	return o.ensureSchedule(ctx, opts, "daily digests")
}

// EnsureETPWarningSchedule creates the daily ETP warning check's Schedule
// (livret-etp-warnings, 06:30 Paris: before the digests, so the morning's digest carries the
// day's warnings), or updates it: every serving worker calls it at start.
func (o *Orchestrator) EnsureETPWarningSchedule(ctx context.Context) error {
	opts := client.ScheduleOptions{
		ID: workflows.ETPWarningScheduleID,
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{
				Hour:   []client.ScheduleRange{{Start: 6}},
				Minute: []client.ScheduleRange{{Start: 30}},
			}},
			TimeZoneName: domain.Paris.String(),
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        workflows.ETPWarningScheduleID,
			Workflow:  workflows.ETPWarningsName,
			Args:      []any{workflows.ETPWarningsInput{}},
			TaskQueue: workflows.TaskQueue,
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: o.DigestCatchupWindow,
	}
	return o.ensureSchedule(ctx, opts, "ETP warnings")
}

// StartETPWarnings runs the ETP warning check of a Paris day (YYYY-MM-DD) now, or joins the
// one of that day already going: what an operator (or a test with its own clock) does.
func (o *Orchestrator) StartETPWarnings(ctx context.Context, day string) (client.WorkflowRun, error) {
	run, err := o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ETPWarningsID(day),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.ETPWarningsName, workflows.ETPWarningsInput{Day: day})
	if err != nil {
		return nil, fmt.Errorf("start ETP warnings of %s: %w", day, err)
	}
	return run, nil
}

// StartDigest starts the digests of a Paris day (YYYY-MM-DD) now, or joins the run of that
// day already going: what an operator does to send a day's digests again
// (docs/runbook.md, "E-mail digest").
func (o *Orchestrator) StartDigest(ctx context.Context, day string) (workflowID, runID string, err error) {
	run, err := o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.DigestID(day),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.DailyDigestName, workflows.DailyDigestInput{Day: day})
	if err != nil {
		return "", "", fmt.Errorf("start digests of %s: %w", day, err)
	}
	return run.GetID(), run.GetRunID(), nil
}

// DeleteSchedule removes the office's Schedule; a Schedule already gone is not an error.
func (o *Orchestrator) DeleteSchedule(ctx context.Context, officeID int64) error {
	err := o.Client.ScheduleClient().GetHandle(ctx, workflows.ScheduleID(officeID)).Delete(ctx)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("delete schedule of office %d: %w", officeID, err)
	}
	return nil
}

// EnsureKeeper starts the account's token keeper unless it already runs.
func (o *Orchestrator) EnsureKeeper(ctx context.Context, accountID int64) error {
	_, err := o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.KeeperID(accountID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.AccountKeeperName, workflows.KeeperInput{AccountID: accountID})
	if err != nil {
		return fmt.Errorf("start keeper of account %d: %w", accountID, err)
	}
	return nil
}

// WakeWebhook signals the subscription's dispatcher to look at its deliveries now, starting
// it when it does not run (SignalWithStart): a new event, a subscription changed or tested.
func (o *Orchestrator) WakeWebhook(ctx context.Context, webhookID int64) error {
	_, err := o.Client.SignalWithStartWorkflow(ctx, workflows.WebhookDispatchID(webhookID), workflows.WakeSignal, nil,
		o.webhookStart(webhookID), workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: webhookID})
	if err != nil {
		return fmt.Errorf("wake dispatcher of webhook %d: %w", webhookID, err)
	}
	return nil
}

// EnsureWebhookDispatch starts the subscription's dispatcher unless it runs, without waking
// a running one (which waits for its next retry on purpose): what the reconciler does for
// every subscription with pending deliveries.
func (o *Orchestrator) EnsureWebhookDispatch(ctx context.Context, webhookID int64) error {
	opts := o.webhookStart(webhookID)
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	_, err := o.Client.ExecuteWorkflow(ctx, opts, workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: webhookID})
	if err != nil {
		return fmt.Errorf("start dispatcher of webhook %d: %w", webhookID, err)
	}
	return nil
}

func (o *Orchestrator) webhookStart(webhookID int64) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                    workflows.WebhookDispatchID(webhookID),
		TaskQueue:             workflows.WebhookTaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
}

// DailyTime is the office runs' time of day, Paris time.
func (o *Orchestrator) DailyTime() (hour, minute int) { return o.DailyHour, o.DailyMinute }

// Ready reports whether the Temporal frontend answers.
func (o *Orchestrator) Ready(ctx context.Context) error {
	_, err := o.Client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}
