// The demo's fixed users and conversations. There is no sign-in: whoever opens the page picks a user.
// A real service puts its user and membership database here (and authenticates every request).

/** A conversation of the demo. */
export interface Conversation {
  readonly id: string;
  readonly title: string;
  readonly members: readonly string[];
}

/** The users; alice and bob have devices on the page, carol and dave only fill the groups. */
export const USERS: readonly string[] = ['alice', 'bob', 'carol', 'dave'];

/**
 * Above this many inboxes a send uses read diffusion. Kept tiny so that the demo shows both modes:
 * the 4-member group (4 inboxes with the sender's own) is read-diffused, the others fanned out.
 */
export const LARGE_GROUP_THRESHOLD = 3;

/** The conversations: a 1:1 chat, a small group (fanned out) and a large one (read diffusion). */
export const CONVERSATIONS: readonly Conversation[] = [
  { id: 'dm:alice:bob', title: 'alice & bob', members: ['alice', 'bob'] },
  { id: 'group:team', title: 'team (fan-out)', members: ['alice', 'bob', 'carol'] },
  { id: 'group:everyone', title: 'everyone (read diff.)', members: ['alice', 'bob', 'carol', 'dave'] },
];

/** The conversations `userId` belongs to. */
export function conversationsOf(userId: string): Conversation[] {
  return CONVERSATIONS.filter((c) => c.members.includes(userId));
}

/** The conversation with this id, when `userId` is a member; undefined otherwise. */
export function memberOf(userId: string, conversationId: string): Conversation | undefined {
  return CONVERSATIONS.find((c) => c.id === conversationId && c.members.includes(userId));
}

/** The ids of the user's groups over the threshold, for `largeGroupsOf`. */
export function largeGroupsOf(userId: string): string[] {
  return conversationsOf(userId)
    .filter((c) => c.members.length > LARGE_GROUP_THRESHOLD)
    .map((c) => c.id);
}
