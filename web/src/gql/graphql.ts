/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** One board property, or the AND / OR of two */
export type ExplanationKind =
  | 'AND'
  | 'OR'
  | 'SINGLE';

/** The board games saeboard knows */
export type GameId =
  | 'chess'
  | 'othello';

export type JobFilter = {
  kind?: string | null | undefined;
  pipeline?: string | null | undefined;
  status?: string | null | undefined;
};

/** Which links of a comparison */
export type LinkFilter = {
  kinds?: Array<LinkKind> | null | undefined;
  minCosine?: number | null | undefined;
};

/** MATCH: one-to-one pair; SPLIT: a feature of A linked to several of B; MERGE: several of A linked to one of B; DEATH: a feature of A without counterpart; BIRTH: a feature of B without counterpart */
export type LinkKind =
  | 'BIRTH'
  | 'DEATH'
  | 'MATCH'
  | 'MERGE'
  | 'SPLIT';

export type PropertyPageQueryVariables = Exact<{
  id: string | number;
  ref: string;
}>;


export type PropertyPageQuery = { boardProperty: { id: string, name: string, game: string, family: string, group: string, square: string | null, className: string, masked: boolean, bestF1: number | null, bestProbe: { accuracy: number, f1: number | null, layer: number } | null }, features: { edges: Array<{ node: { id: string, index: number, sae: { id: string, name: string, trainer: string, layer: number }, saeCheckpoint: { id: string, step: number, isFinal: boolean } }, alignment: { f1: number, precision: number, recall: number, threshold: number } | null }> } };

export type CompareQueryVariables = Exact<{
  a: string | number;
  b: string | number;
  filter?: LinkFilter | null | undefined;
  first?: number | null | undefined;
}>;


export type CompareQuery = { compareCheckpoints: { totalCount: number | null, a: { id: string, step: number, isFinal: boolean, sae: { id: string, name: string, trainer: string } }, b: { id: string, step: number, isFinal: boolean, sae: { id: string, name: string, trainer: string } }, summary: { aliveA: number, aliveB: number, matched: number, splits: number, merges: number, deaths: number, births: number, meanMatchedCosine: number }, pageInfo: { hasNextPage: boolean }, edges: Array<{ node: { kind: LinkKind, matched: boolean, cosine: number | null, featureA: number | null, featureB: number | null, f1A: number | null, f1B: number | null, deltaF1: number | null, a: { id: string } | null, b: { id: string } | null, boardPropertyA: { id: string, name: string } | null, boardPropertyB: { id: string, name: string } | null } }> } };

export type ExplorerSaesQueryVariables = Exact<{
  game: GameId;
}>;


export type ExplorerSaesQuery = { saes: { edges: Array<{ node: { id: string, name: string, trainer: string, layer: number, languageModel: { name: string, origin: string } } }> } };

export type AnalyzeQueryVariables = Exact<{
  game: GameId;
  moves: string;
  saes: Array<string | number> | string | number;
}>;


export type AnalyzeQuery = { analyzePosition: { board: string, toMove: string, moves: Array<string>, legalMoves: Array<string>, trueProperties: Array<{ id: string, name: string, family: string }>, saes: Array<{ activeFeatureCount: number, sae: { id: string, name: string, trainer: string }, features: Array<{ featureIndex: number, value: number, relativeActivation: number | null, feature: { id: string } | null, trueAlignments: Array<{ f1: number, boardProperty: { id: string, name: string } }> }> }> } };

export type FeaturePageQueryVariables = Exact<{
  id: string | number;
  family: string;
}>;


export type FeaturePageQuery = { feature: { id: string, index: number, alive: boolean, maxActivation: number, density: number, histogram: Array<number> | null, bestF1: number | null, bestThreshold: number | null, sae: { id: string, name: string, trainer: string, layer: number, languageModel: { game: string, name: string } }, saeCheckpoint: { id: string, step: number, isFinal: boolean }, topExamples: Array<{ rank: number, activation: number, board: string, gameIndex: number, positionIndex: number, split: string, transcript: Array<string> | null }>, alignments: Array<{ threshold: number, precision: number, recall: number, f1: number, boardProperty: { id: string, name: string, family: string, square: string | null } }>, explanations: Array<{ rank: number, kind: ExplanationKind, text: string, precision: number, recall: number, f1: number, boardProperties: Array<{ id: string, name: string }> }>, squareF1: Array<{ square: string, row: number, column: number, f1: number }> } };

export type FeatureCurveQueryVariables = Exact<{
  id: string | number;
  bsp: string | number;
}>;


export type FeatureCurveQuery = { feature: { id: string, alignmentCurve: Array<{ threshold: number, precision: number, recall: number, f1: number }> } };

export type FeatureHistoryQueryVariables = Exact<{
  sae: string | number;
  feature: number;
}>;


export type FeatureHistoryQuery = { featureHistory: { level: number, finalF1: number, firstStep: number | null, stableStep: number | null, boardProperty: { id: string, name: string } | null, points: Array<{ step: number, f1: number, saeCheckpoint: { id: string } }> } | null };

export type JobFieldsFragment = { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null };

export type JobsQueryVariables = Exact<{
  filter?: JobFilter | null | undefined;
}>;


export type JobsQuery = { jobs: { edges: Array<{ node: { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null } }> } };

export type JobUpdatedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type JobUpdatedSubscription = { jobUpdated: { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null } };

export type StartJobMutationVariables = Exact<{
  kind: string;
  config: unknown;
}>;


export type StartJobMutation = { startJob: { id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null } };

export type CancelJobMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelJobMutation = { cancelJob: Array<{ id: string, kind: string, status: string, stage: string | null, progress: number, message: string | null, error: string | null, etaSeconds: number | null, pipeline: string | null, createdAt: string, finishedAt: string | null }> };

export type LeaderboardOptionsQueryVariables = Exact<{
  game: GameId;
}>;


export type LeaderboardOptionsQuery = { saes: { edges: Array<{ node: { id: string, layer: number, metrics: Array<{ metric: string, family: string }> } }> } };

export type LeaderboardQueryVariables = Exact<{
  game: GameId;
  layer?: number | null | undefined;
  metric: string;
  family?: string | null | undefined;
}>;


export type LeaderboardQuery = { leaderboard: { game: string, layer: number | null, metric: string, family: string | null, entries: Array<{ rank: number, value: number, l0: number | null, trainer: string, sae: { id: string, name: string, layer: number, dictionarySize: number } }>, randomInit: Array<{ rank: number, value: number, l0: number | null, trainer: string, sae: { id: string, name: string, layer: number } }>, probe: { accuracy: number, f1: number | null, layer: number, family: string } | null } };

export type SaePageQueryVariables = Exact<{
  id: string | number;
}>;


export type SaePageQuery = { sae: { id: string, name: string, trainer: string, dictionary: string, dictionarySize: number, dIn: number, layer: number, site: string, status: string, sweep: string | null, hyperparameters: unknown, languageModel: { id: string, name: string, game: string, origin: string }, checkpoints: Array<{ id: string, step: number, isFinal: boolean, metrics: Array<{ metric: string, family: string, value: number }> }>, finalCheckpoint: { id: string, step: number, explainedShare: { aliveFeatures: number, explainedFeatures: number, atF1_50: number, atF1_80: number, absorption: number | null, splitting: number | null } | null, boardPropertyAnalyses: { totalCount: number | null, edges: Array<{ node: { bestF1: number, mainFeatures: Array<number>, positives: number, missed: number, absorbed: number, absorption: number | null, splitting: number | null, splitFeatures: Array<number>, topAbsorberCount: number, boardProperty: { id: string, name: string } | null, bestFeature: { id: string, index: number } | null, topAbsorber: { id: string, index: number } | null } }> }, densityHistogram: { dead: number, bins: Array<{ log10Low: number, log10High: number, count: number }> }, features: { edges: Array<{ node: { id: string, index: number, bestF1: number | null, density: number, maxActivation: number, bestBoardProperty: { id: string, name: string } | null } }> } } | null } };

export type SaeLearningOrderQueryVariables = Exact<{
  sae: string | number;
}>;


export type SaeLearningOrderQuery = { learningOrder: { totalCount: number | null, edges: Array<{ node: { firstStep: number | null, features: number, bestFinalF1: number, boardProperty: { id: string, name: string } | null } }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const JobFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}
    `, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const PropertyPageDocument = new TypedDocumentString(`
    query PropertyPage($id: ID!, $ref: String!) {
  boardProperty(id: $id) {
    id
    name
    game
    family
    group
    square
    className
    masked
    bestF1
    bestProbe {
      accuracy
      f1
      layer
    }
  }
  features(
    filter: {boardProperty: $ref, allCheckpoints: true}
    first: 100
    orderBy: F1
  ) {
    edges {
      node {
        id
        index
        sae {
          id
          name
          trainer
          layer
        }
        saeCheckpoint {
          id
          step
          isFinal
        }
      }
      alignment {
        f1
        precision
        recall
        threshold
      }
    }
  }
}
    `) as unknown as TypedDocumentString<PropertyPageQuery, PropertyPageQueryVariables>;
export const CompareDocument = new TypedDocumentString(`
    query Compare($a: ID!, $b: ID!, $filter: LinkFilter, $first: Int) {
  compareCheckpoints(a: $a, b: $b, filter: $filter, first: $first) {
    a {
      id
      step
      isFinal
      sae {
        id
        name
        trainer
      }
    }
    b {
      id
      step
      isFinal
      sae {
        id
        name
        trainer
      }
    }
    summary {
      aliveA
      aliveB
      matched
      splits
      merges
      deaths
      births
      meanMatchedCosine
    }
    totalCount
    pageInfo {
      hasNextPage
    }
    edges {
      node {
        kind
        matched
        cosine
        featureA
        featureB
        f1A
        f1B
        deltaF1
        a {
          id
        }
        b {
          id
        }
        boardPropertyA {
          id
          name
        }
        boardPropertyB {
          id
          name
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<CompareQuery, CompareQueryVariables>;
export const ExplorerSaesDocument = new TypedDocumentString(`
    query ExplorerSaes($game: GameId!) {
  saes(filter: {game: $game}, first: 100) {
    edges {
      node {
        id
        name
        trainer
        layer
        languageModel {
          name
          origin
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerSaesQuery, ExplorerSaesQueryVariables>;
export const AnalyzeDocument = new TypedDocumentString(`
    query Analyze($game: GameId!, $moves: String!, $saes: [ID!]!) {
  analyzePosition(game: $game, moves: $moves, saes: $saes, maxFeatures: 12) {
    board
    toMove
    moves
    legalMoves
    trueProperties {
      id
      name
      family
    }
    saes {
      sae {
        id
        name
        trainer
      }
      activeFeatureCount
      features {
        featureIndex
        value
        relativeActivation
        feature {
          id
        }
        trueAlignments {
          f1
          boardProperty {
            id
            name
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AnalyzeQuery, AnalyzeQueryVariables>;
export const FeaturePageDocument = new TypedDocumentString(`
    query FeaturePage($id: ID!, $family: String!) {
  feature(id: $id) {
    id
    index
    alive
    maxActivation
    density
    histogram
    bestF1
    bestThreshold
    sae {
      id
      name
      trainer
      layer
      languageModel {
        game
        name
      }
    }
    saeCheckpoint {
      id
      step
      isFinal
    }
    topExamples(first: 6) {
      rank
      activation
      board
      gameIndex
      positionIndex
      split
      transcript
    }
    alignments(first: 10) {
      threshold
      precision
      recall
      f1
      boardProperty {
        id
        name
        family
        square
      }
    }
    explanations(first: 3) {
      rank
      kind
      text
      precision
      recall
      f1
      boardProperties {
        id
        name
      }
    }
    squareF1(family: $family) {
      square
      row
      column
      f1
    }
  }
}
    `) as unknown as TypedDocumentString<FeaturePageQuery, FeaturePageQueryVariables>;
export const FeatureCurveDocument = new TypedDocumentString(`
    query FeatureCurve($id: ID!, $bsp: ID!) {
  feature(id: $id) {
    id
    alignmentCurve(boardProperty: $bsp) {
      threshold
      precision
      recall
      f1
    }
  }
}
    `) as unknown as TypedDocumentString<FeatureCurveQuery, FeatureCurveQueryVariables>;
export const FeatureHistoryDocument = new TypedDocumentString(`
    query FeatureHistory($sae: ID!, $feature: Int!) {
  featureHistory(sae: $sae, feature: $feature) {
    level
    finalF1
    firstStep
    stableStep
    boardProperty {
      id
      name
    }
    points {
      step
      f1
      saeCheckpoint {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<FeatureHistoryQuery, FeatureHistoryQueryVariables>;
export const JobsDocument = new TypedDocumentString(`
    query Jobs($filter: JobFilter) {
  jobs(filter: $filter, first: 50) {
    edges {
      node {
        ...JobFields
      }
    }
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<JobsQuery, JobsQueryVariables>;
export const JobUpdatedDocument = new TypedDocumentString(`
    subscription JobUpdated {
  jobUpdated {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<JobUpdatedSubscription, JobUpdatedSubscriptionVariables>;
export const StartJobDocument = new TypedDocumentString(`
    mutation StartJob($kind: String!, $config: JSON!) {
  startJob(kind: $kind, config: $config) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<StartJobMutation, StartJobMutationVariables>;
export const CancelJobDocument = new TypedDocumentString(`
    mutation CancelJob($id: ID!) {
  cancelJob(id: $id) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  kind
  status
  stage
  progress
  message
  error
  etaSeconds
  pipeline
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<CancelJobMutation, CancelJobMutationVariables>;
export const LeaderboardOptionsDocument = new TypedDocumentString(`
    query LeaderboardOptions($game: GameId!) {
  saes(filter: {game: $game}, first: 100) {
    edges {
      node {
        id
        layer
        metrics {
          metric
          family
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<LeaderboardOptionsQuery, LeaderboardOptionsQueryVariables>;
export const LeaderboardDocument = new TypedDocumentString(`
    query Leaderboard($game: GameId!, $layer: Int, $metric: String!, $family: String) {
  leaderboard(
    game: $game
    layer: $layer
    metric: $metric
    family: $family
    first: 50
  ) {
    game
    layer
    metric
    family
    entries {
      rank
      value
      l0
      trainer
      sae {
        id
        name
        layer
        dictionarySize
      }
    }
    randomInit {
      rank
      value
      l0
      trainer
      sae {
        id
        name
        layer
      }
    }
    probe {
      accuracy
      f1
      layer
      family
    }
  }
}
    `) as unknown as TypedDocumentString<LeaderboardQuery, LeaderboardQueryVariables>;
export const SaePageDocument = new TypedDocumentString(`
    query SaePage($id: ID!) {
  sae(id: $id) {
    id
    name
    trainer
    dictionary
    dictionarySize
    dIn
    layer
    site
    status
    sweep
    hyperparameters
    languageModel {
      id
      name
      game
      origin
    }
    checkpoints {
      id
      step
      isFinal
      metrics {
        metric
        family
        value
      }
    }
    finalCheckpoint {
      id
      step
      explainedShare {
        aliveFeatures
        explainedFeatures
        atF1_50
        atF1_80
        absorption
        splitting
      }
      boardPropertyAnalyses(first: 20, orderBy: ABSORPTION) {
        totalCount
        edges {
          node {
            boardProperty {
              id
              name
            }
            bestF1
            bestFeature {
              id
              index
            }
            mainFeatures
            positives
            missed
            absorbed
            absorption
            splitting
            splitFeatures
            topAbsorber {
              id
              index
            }
            topAbsorberCount
          }
        }
      }
      densityHistogram(bins: 24) {
        dead
        bins {
          log10Low
          log10High
          count
        }
      }
      features(first: 10, orderBy: F1) {
        edges {
          node {
            id
            index
            bestF1
            density
            maxActivation
            bestBoardProperty {
              id
              name
            }
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<SaePageQuery, SaePageQueryVariables>;
export const SaeLearningOrderDocument = new TypedDocumentString(`
    query SaeLearningOrder($sae: ID!) {
  learningOrder(sae: $sae, first: 20) {
    totalCount
    edges {
      node {
        firstStep
        features
        bestFinalF1
        boardProperty {
          id
          name
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<SaeLearningOrderQuery, SaeLearningOrderQueryVariables>;