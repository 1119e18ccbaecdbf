import { afterAll } from 'vitest'
import { describeRaces } from './describe-races.js'
import { removeTempDirectories, tempSQLiteURI } from './fixtures.js'

afterAll(removeTempDirectories)

describeRaces('SQLite file', async () => tempSQLiteURI())
