-- Scored reviews as the pipeline delivers them (Delivery:PostgreSQL; ReviewOrleans.Delivery), for analysts' queries
-- and `reviewctl query scored`. One row per review id: a redelivery after a crash is dropped by the primary key
-- (INSERT … ON CONFLICT DO NOTHING from a staging table loaded with binary COPY).
CREATE TABLE IF NOT EXISTS scored_reviews
(
    review_id text NOT NULL PRIMARY KEY,
    category text NOT NULL,
    source text NOT NULL,
    star_rating smallint,
    predicted_stars smallint NOT NULL,
    probability_1 real NOT NULL,
    probability_2 real NOT NULL,
    probability_3 real NOT NULL,
    probability_4 real NOT NULL,
    probability_5 real NOT NULL,
    expected_stars real NOT NULL,
    anomaly_score double precision,
    ingested_at timestamptz NOT NULL,
    event_time timestamptz,
    model_version text NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS scored_reviews_category_ingested_at ON scored_reviews (category, ingested_at);
