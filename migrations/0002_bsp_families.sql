-- saeboard 0002: the BSP catalogue's family level, next to board_properties (one row per cell).
-- A family is one "custom function" of the paper's code (bsp.md): its tensor shape, its coverage
-- denominator (metrics.md §4: rows·cols·(classes−1) with a one_hot_mask_idx, else rows·cols·classes)
-- and whether the paper reports numbers on it. Metrics and the API read denominators from here.
CREATE TABLE bsp_families (
  game                 text NOT NULL REFERENCES games (id),
  family               text NOT NULL,             -- the paper's code function name
  short_name           text NOT NULL,             -- board_state, valid_moves, check, ...
  family_group         text NOT NULL CHECK (family_group IN ('board_state', 'strategy', 'other')),
  rows                 smallint NOT NULL CHECK (rows > 0),
  cols                 smallint NOT NULL CHECK (cols > 0),
  classes              smallint NOT NULL CHECK (classes > 0),
  cells                integer NOT NULL CHECK (cells = rows * cols * classes),
  mask_index           smallint,                  -- one_hot_mask_idx of the paper's config, if any
  coverage_denominator integer NOT NULL CHECK (coverage_denominator > 0),
  reported             boolean NOT NULL,
  description          text,
  PRIMARY KEY (game, family),
  UNIQUE (game, short_name)
);

-- board_properties rows are written together with their family by the catalogue upsert
-- (src/db/repos/datasets.ts); no foreign key, so hand-made test rows elsewhere keep working.
