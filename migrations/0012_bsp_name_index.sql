-- saeboard 0012: board properties by readable name, with or without a game.
-- `features(filter: { boardProperty: "d4 is mine" })` names no game, and the (game, lower(name))
-- index of 0006 cannot serve `lower(name) = …` alone: every such request scanned all 7,808 Othello
-- properties (10 ms on the loaded VM, 30 times the feature page it was for; bench/api-scale). A
-- name belongs to at most one property per game, so the game is a filter on a row or two.
DROP INDEX IF EXISTS board_properties_name_idx;
CREATE INDEX board_properties_lower_name_idx ON board_properties (lower(name));
