// Replaced by the database test setup (foundation issue).
export default async function setup(): Promise<void> {}
