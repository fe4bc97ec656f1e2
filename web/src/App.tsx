import { useEffect, type ReactElement } from 'react';
import { Link, useLocation } from './router';
import { LeaderboardPage } from './pages/Leaderboard';
import { SaePage } from './pages/Sae';
import { FeaturePage } from './pages/Feature';
import { BoardPropertyPage } from './pages/BoardProperty';
import { ExplorerPage } from './pages/Explorer';
import { JobsPage } from './pages/Jobs';
import { ComparePage } from './pages/Compare';

function route(path: string): { title: string; page: ReactElement } {
  let m: RegExpExecArray | null;
  if (path === '/' || path === '/leaderboard') return { title: 'Leaderboard', page: <LeaderboardPage /> };
  if ((m = /^\/sae\/([^/]+)$/.exec(path))) return { title: 'SAE', page: <SaePage id={decodeURIComponent(m[1])} /> };
  if ((m = /^\/feature\/([^/]+)$/.exec(path))) return { title: 'Feature', page: <FeaturePage id={decodeURIComponent(m[1])} /> };
  if ((m = /^\/property\/([^/]+)$/.exec(path))) return { title: 'Board property', page: <BoardPropertyPage id={decodeURIComponent(m[1])} /> };
  if (path === '/explorer') return { title: 'Explorer', page: <ExplorerPage /> };
  if (path === '/compare') return { title: 'Compare checkpoints', page: <ComparePage /> };
  if (path === '/jobs') return { title: 'Jobs', page: <JobsPage /> };
  return {
    title: 'Not found',
    page: (
      <>
        <h1>Not found</h1>
        <p>
          No page at <code>{path}</code>. Start from the <Link to="/">leaderboard</Link>.
        </p>
      </>
    ),
  };
}

const NAV = [
  ['/', 'Leaderboard'],
  ['/explorer', 'Explorer'],
  ['/jobs', 'Jobs'],
] as const;

export function App() {
  const { path } = useLocation();
  const { title, page } = route(path);
  useEffect(() => {
    document.title = `${title} · saeboard`;
  }, [title]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          saeboard
        </Link>
        <nav aria-label="Main">
          {NAV.map(([to, name]) => (
            <Link key={to} to={to} aria-current={(to === '/' ? path === '/' || path === '/leaderboard' : path.startsWith(to)) ? 'page' : undefined}>
              {name}
            </Link>
          ))}
          <a href="/graphql">GraphiQL</a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
