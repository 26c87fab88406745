package sqlstore

import (
	"context"
	"errors"

	"github.com/ratchet-go/ratchet/core"
)

// DeliveryRepo stores output delivery results.
type DeliveryRepo struct{ s *Store }

// Deliveries returns the delivery result repository.
func (s *Store) Deliveries() DeliveryRepo { return DeliveryRepo{s} }

var deliveryResource = &resource{
	name: "deliveries",
	fields: map[string]field{
		"id": idField("id"), "job_id": idField("job_id"), "execution_id": refField("execution_id"),
		"destination_type": textField("destination_type"), "destination": textField("destination"),
		"success": boolField("success"), "attempts": idField("attempts"),
		"status_code":   {column: "status_code", kind: kindInt, nullable: true},
		"error_message": textField("error_message"), "duration_ms": idField("duration_ms"),
		"created_at": timeField("created_at"),
	},
	search:      []string{"destination_type", "destination", "error_message"},
	defaultSort: []core.SortField{{Field: "id", Desc: true}},
}

// Create stores one delivery attempt's result. CreatedAt defaults to now;
// ExecutionID 0 means none.
func (r DeliveryRepo) Create(ctx context.Context, d core.DeliveryResult) (core.DeliveryResult, error) {
	if d.JobID <= 0 {
		return core.DeliveryResult{}, core.Errorf(core.KindInvalidArgument, "delivery result needs a job_id").WithDetail("field", "job_id")
	}
	if d.DestinationType == "" {
		return core.DeliveryResult{}, core.Errorf(core.KindInvalidArgument, "delivery result needs a destination_type").WithDetail("field", "destination_type")
	}
	if err := checkText("delivery fields", d.DestinationType); err != nil {
		return core.DeliveryResult{}, err
	}
	d.Destination, d.ErrorMessage = clean(d.Destination), clean(d.ErrorMessage)
	if d.CreatedAt.IsZero() {
		d.CreatedAt = r.s.now()
	}
	m := &deliveryModel{
		JobID: d.JobID, DestinationType: d.DestinationType, Destination: d.Destination,
		Success: d.Success, Attempts: max(d.Attempts, 1), StatusCode: d.StatusCode,
		ErrorMessage: d.ErrorMessage, DurationMS: d.DurationMS, CreatedAt: truncTime(d.CreatedAt),
	}
	if d.ExecutionID != 0 {
		id := d.ExecutionID
		m.ExecutionID = &id
	}
	if _, err := r.s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
		err = mapError(err)
		if errors.Is(err, core.ErrInvalidArgument) {
			return core.DeliveryResult{}, core.Errorf(core.KindNotFound, "job %d or execution %d not found", d.JobID, d.ExecutionID)
		}
		return core.DeliveryResult{}, err
	}
	return deliveryFromModel(m), nil
}

// Get returns one delivery result.
func (r DeliveryRepo) Get(ctx context.Context, id int64) (core.DeliveryResult, error) {
	var m deliveryModel
	if err := r.s.r.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return core.DeliveryResult{}, notFound(err, "delivery result", id)
	}
	return deliveryFromModel(&m), nil
}

// List returns one page of delivery results (GET /deliveries). Filter and
// sort fields: id, job_id, execution_id, destination_type, destination,
// success, attempts, status_code, error_message, duration_ms, created_at.
func (r DeliveryRepo) List(ctx context.Context, q core.ListQuery) (core.Page[core.DeliveryResult], error) {
	rows, total, err := list[deliveryModel](ctx, r.s, deliveryResource, q, "id")
	if err != nil {
		return core.Page[core.DeliveryResult]{}, err
	}
	items := make([]core.DeliveryResult, len(rows))
	for i := range rows {
		items[i] = deliveryFromModel(&rows[i])
	}
	return core.Page[core.DeliveryResult]{Items: items, Total: total}, nil
}

// ListForJob returns every delivery result of a job, oldest first.
func (r DeliveryRepo) ListForJob(ctx context.Context, jobID int64) ([]core.DeliveryResult, error) {
	var ms []deliveryModel
	if err := r.s.r.NewSelect().Model(&ms).Where("job_id = ?", jobID).Order("id ASC").Scan(ctx); err != nil {
		return nil, mapError(err)
	}
	out := make([]core.DeliveryResult, len(ms))
	for i := range ms {
		out[i] = deliveryFromModel(&ms[i])
	}
	return out, nil
}
