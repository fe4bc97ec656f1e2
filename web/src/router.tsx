// A tiny client-side router over the History API: every page and filter lives in the URL, so any
// view is a deep link (the server answers every navigation with index.html).
import { useCallback, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const EVENT = 'saeboard:navigate';

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(EVENT));
}

export function useLocation(): { path: string; params: URLSearchParams } {
  const read = () => ({ path: location.pathname, params: new URLSearchParams(location.search) });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    window.addEventListener('popstate', update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return loc;
}

/** One URL search parameter as state: setting it replaces the URL (filters are deep links). */
export function useParam(name: string, fallback = ''): [string, (v: string) => void] {
  const { params } = useLocation();
  const value = params.get(name) ?? fallback;
  const set = useCallback(
    (v: string) => {
      const p = new URLSearchParams(location.search);
      if (v === '' || v === fallback) p.delete(name);
      else p.set(name, v);
      const q = p.toString();
      navigate(`${location.pathname}${q ? `?${q}` : ''}`, { replace: true });
    },
    [name, fallback],
  );
  return [value, set];
}

export function Link({ to, children, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
    window.scrollTo(0, 0);
  };
  return (
    <a href={to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
