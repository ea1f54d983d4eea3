/*
 * phonezone.c: the time zones a phone number may be in.
 *
 * The table maps prefixes of E.164 numbers (without the "+") to IANA
 * zone names: the country calling code, and finer prefixes where a
 * country spans zones and its numbering plan says where a number is.
 * NANP (+1) is mapped by area code, which the FCC's quiet-hours rule
 * and counsel accept as a proxy for where the called party is; +1 alone
 * (toll-free, non-geographic, or an area code opened after this table)
 * stands for every zone of the United States and Canada from Hawaii to
 * Newfoundland. Mexico and Brazil are mapped by area code, mobiles
 * included (their numbers keep the area's code). A prefix with several
 * zones is a place split by zones, or numbers (mobiles) that can be
 * anywhere in the country (Russia's, Indonesia's): callers treat the
 * number as being in all of them at once.
 *
 * Facts, gathered from the national numbering plans and the zone
 * boundaries the IANA database documents; where an area code straddles a
 * boundary, both zones are listed. Correct it as plans change: a new
 * area code falls back to +1's wide set, never to a wrong zone.
 */
#include <stddef.h>
#include <string.h>

#include "phonezone.h"

#define NY "America/New_York"
#define CHI "America/Chicago"
#define DEN "America/Denver"
#define PHX "America/Phoenix"
#define LA "America/Los_Angeles"
#define MX "America/Mexico_City"

static const struct {
	const char *prefix;
	const char *zones;
} table[] = {
	/* NANP: an area code not below */
	{ "1", "America/St_Johns America/Halifax America/Puerto_Rico "
	    NY " " CHI " " DEN " " PHX " " LA " America/Anchorage "
	    "Pacific/Honolulu" },
	/* Alabama */
	{ "1205", CHI }, { "1251", CHI }, { "1256", CHI }, { "1334", CHI },
	{ "1659", CHI }, { "1938", CHI },
	/* Alaska: the Aleutians west of 169.5W keep Hawaii-Aleutian time */
	{ "1907", "America/Anchorage America/Adak" },
	/* Arizona: no DST, but the Navajo Nation keeps it */
	{ "1480", PHX }, { "1520", PHX }, { "1602", PHX }, { "1623", PHX },
	{ "1928", PHX " " DEN },
	/* Arkansas */
	{ "1327", CHI }, { "1479", CHI }, { "1501", CHI }, { "1870", CHI },
	/* California */
	{ "1209", LA }, { "1213", LA }, { "1279", LA }, { "1310", LA },
	{ "1323", LA }, { "1341", LA }, { "1350", LA }, { "1357", LA },
	{ "1369", LA }, { "1408", LA }, { "1415", LA }, { "1424", LA },
	{ "1442", LA }, { "1510", LA }, { "1530", LA }, { "1559", LA },
	{ "1562", LA }, { "1619", LA }, { "1626", LA }, { "1628", LA },
	{ "1650", LA }, { "1657", LA }, { "1661", LA }, { "1669", LA },
	{ "1707", LA }, { "1714", LA }, { "1747", LA }, { "1760", LA },
	{ "1805", LA }, { "1818", LA }, { "1820", LA }, { "1831", LA },
	{ "1840", LA }, { "1858", LA }, { "1909", LA }, { "1916", LA },
	{ "1925", LA }, { "1949", LA }, { "1951", LA },
	/* Colorado */
	{ "1303", DEN }, { "1719", DEN }, { "1720", DEN }, { "1970", DEN },
	{ "1983", DEN },
	/* Connecticut */
	{ "1203", NY }, { "1475", NY }, { "1860", NY }, { "1959", NY },
	/* Delaware, District of Columbia */
	{ "1202", NY }, { "1302", NY }, { "1771", NY },
	/* Florida: the panhandle west of the Apalachicola is Central */
	{ "1239", NY }, { "1305", NY }, { "1321", NY }, { "1324", NY },
	{ "1352", NY }, { "1386", NY }, { "1407", NY }, { "1561", NY },
	{ "1645", NY }, { "1656", NY }, { "1689", NY }, { "1727", NY },
	{ "1728", NY }, { "1754", NY }, { "1772", NY }, { "1786", NY },
	{ "1813", NY }, { "1863", NY }, { "1904", NY }, { "1941", NY },
	{ "1954", NY },
	{ "1448", NY " " CHI }, { "1850", NY " " CHI },
	/* Georgia */
	{ "1229", NY }, { "1404", NY }, { "1470", NY }, { "1478", NY },
	{ "1678", NY }, { "1706", NY }, { "1762", NY }, { "1770", NY },
	{ "1912", NY }, { "1943", NY },
	/* Hawaii */
	{ "1808", "Pacific/Honolulu" },
	/* Idaho: the north is Pacific */
	{ "1208", "America/Boise " LA }, { "1986", "America/Boise " LA },
	/* Illinois */
	{ "1217", CHI }, { "1224", CHI }, { "1309", CHI }, { "1312", CHI },
	{ "1331", CHI }, { "1447", CHI }, { "1464", CHI }, { "1618", CHI },
	{ "1630", CHI }, { "1708", CHI }, { "1730", CHI }, { "1773", CHI },
	{ "1779", CHI }, { "1815", CHI }, { "1847", CHI }, { "1861", CHI },
	{ "1872", CHI },
	/* Indiana: the northwest and southwest corners are Central */
	{ "1260", NY }, { "1317", NY }, { "1463", NY }, { "1765", NY },
	{ "1219", CHI },
	{ "1574", NY " " CHI }, { "1812", NY " " CHI },
	{ "1930", NY " " CHI },
	/* Iowa */
	{ "1319", CHI }, { "1515", CHI }, { "1563", CHI }, { "1641", CHI },
	{ "1712", CHI },
	/* Kansas: four western counties are Mountain */
	{ "1316", CHI }, { "1913", CHI },
	{ "1620", CHI " " DEN }, { "1785", CHI " " DEN },
	/* Kentucky: split between Eastern and Central */
	{ "1502", NY }, { "1859", NY },
	{ "1270", NY " " CHI }, { "1364", NY " " CHI },
	{ "1606", NY " " CHI },
	/* Louisiana */
	{ "1225", CHI }, { "1318", CHI }, { "1337", CHI }, { "1504", CHI },
	{ "1985", CHI },
	/* Maine, Maryland, Massachusetts */
	{ "1207", NY }, { "1227", NY }, { "1240", NY }, { "1301", NY },
	{ "1410", NY }, { "1443", NY }, { "1667", NY }, { "1339", NY },
	{ "1351", NY }, { "1413", NY }, { "1508", NY }, { "1617", NY },
	{ "1774", NY }, { "1781", NY }, { "1857", NY }, { "1978", NY },
	/* Michigan: four Upper Peninsula counties are Central */
	{ "1231", "America/Detroit" }, { "1248", "America/Detroit" },
	{ "1269", "America/Detroit" }, { "1313", "America/Detroit" },
	{ "1517", "America/Detroit" }, { "1586", "America/Detroit" },
	{ "1616", "America/Detroit" }, { "1679", "America/Detroit" },
	{ "1734", "America/Detroit" }, { "1810", "America/Detroit" },
	{ "1947", "America/Detroit" }, { "1989", "America/Detroit" },
	{ "1906", "America/Detroit America/Menominee" },
	/* Minnesota, Mississippi, Missouri */
	{ "1218", CHI }, { "1320", CHI }, { "1507", CHI }, { "1612", CHI },
	{ "1651", CHI }, { "1763", CHI }, { "1924", CHI }, { "1952", CHI },
	{ "1228", CHI }, { "1601", CHI }, { "1662", CHI }, { "1769", CHI },
	{ "1235", CHI }, { "1314", CHI }, { "1417", CHI }, { "1557", CHI },
	{ "1573", CHI }, { "1636", CHI }, { "1660", CHI }, { "1816", CHI },
	{ "1975", CHI },
	/* Montana */
	{ "1406", DEN },
	/* Nebraska: the panhandle is Mountain */
	{ "1402", CHI }, { "1531", CHI },
	{ "1308", CHI " " DEN },
	/* Nevada: West Wendover is Mountain */
	{ "1702", LA }, { "1725", LA },
	{ "1775", LA " " DEN },
	/* New Hampshire, New Jersey */
	{ "1603", NY }, { "1201", NY }, { "1551", NY }, { "1609", NY },
	{ "1640", NY }, { "1732", NY }, { "1848", NY }, { "1856", NY },
	{ "1862", NY }, { "1908", NY }, { "1973", NY },
	/* New Mexico */
	{ "1505", DEN }, { "1575", DEN },
	/* New York */
	{ "1212", NY }, { "1315", NY }, { "1329", NY }, { "1332", NY },
	{ "1347", NY }, { "1363", NY }, { "1516", NY }, { "1518", NY },
	{ "1585", NY }, { "1607", NY }, { "1624", NY }, { "1631", NY },
	{ "1646", NY }, { "1680", NY }, { "1716", NY }, { "1718", NY },
	{ "1838", NY }, { "1845", NY }, { "1914", NY }, { "1917", NY },
	{ "1929", NY }, { "1934", NY },
	/* North Carolina */
	{ "1252", NY }, { "1336", NY }, { "1472", NY }, { "1704", NY },
	{ "1743", NY }, { "1828", NY }, { "1910", NY }, { "1919", NY },
	{ "1980", NY }, { "1984", NY },
	/* North Dakota: the southwest is Mountain */
	{ "1701", CHI " " DEN },
	/* Ohio */
	{ "1216", NY }, { "1220", NY }, { "1234", NY }, { "1283", NY },
	{ "1326", NY }, { "1330", NY }, { "1380", NY }, { "1419", NY },
	{ "1436", NY }, { "1440", NY }, { "1513", NY }, { "1567", NY },
	{ "1614", NY }, { "1740", NY }, { "1937", NY },
	/* Oklahoma */
	{ "1405", CHI }, { "1539", CHI }, { "1572", CHI }, { "1580", CHI },
	{ "1918", CHI },
	/* Oregon: Malheur County is Mountain */
	{ "1503", LA }, { "1971", LA },
	{ "1458", LA " America/Boise" }, { "1541", LA " America/Boise" },
	/* Pennsylvania, Rhode Island, South Carolina */
	{ "1215", NY }, { "1223", NY }, { "1267", NY }, { "1272", NY },
	{ "1412", NY }, { "1445", NY }, { "1484", NY }, { "1570", NY },
	{ "1582", NY }, { "1610", NY }, { "1717", NY }, { "1724", NY },
	{ "1814", NY }, { "1835", NY }, { "1878", NY }, { "1401", NY },
	{ "1803", NY }, { "1839", NY }, { "1843", NY }, { "1854", NY },
	{ "1864", NY },
	/* South Dakota: the west is Mountain */
	{ "1605", CHI " " DEN },
	/* Tennessee: East Tennessee is Eastern, the rest Central */
	{ "1865", NY },
	{ "1615", CHI }, { "1629", CHI }, { "1731", CHI }, { "1901", CHI },
	{ "1423", NY " " CHI }, { "1931", NY " " CHI },
	/* Texas: El Paso and Hudspeth County are Mountain */
	{ "1210", CHI }, { "1214", CHI }, { "1254", CHI }, { "1281", CHI },
	{ "1325", CHI }, { "1346", CHI }, { "1361", CHI }, { "1409", CHI },
	{ "1430", CHI }, { "1469", CHI }, { "1512", CHI }, { "1682", CHI },
	{ "1713", CHI }, { "1726", CHI }, { "1737", CHI }, { "1806", CHI },
	{ "1817", CHI }, { "1830", CHI }, { "1832", CHI }, { "1903", CHI },
	{ "1936", CHI }, { "1940", CHI }, { "1945", CHI }, { "1956", CHI },
	{ "1972", CHI }, { "1979", CHI },
	{ "1915", DEN },
	{ "1432", CHI " " DEN },
	/* Utah */
	{ "1385", DEN }, { "1435", DEN }, { "1801", DEN },
	/* Vermont, Virginia, West Virginia */
	{ "1802", NY }, { "1276", NY }, { "1434", NY }, { "1540", NY },
	{ "1571", NY }, { "1686", NY }, { "1703", NY }, { "1757", NY },
	{ "1804", NY }, { "1826", NY }, { "1948", NY }, { "1304", NY },
	{ "1681", NY },
	/* Washington */
	{ "1206", LA }, { "1253", LA }, { "1360", LA }, { "1425", LA },
	{ "1509", LA }, { "1564", LA },
	/* Wisconsin */
	{ "1262", CHI }, { "1274", CHI }, { "1353", CHI }, { "1414", CHI },
	{ "1534", CHI }, { "1608", CHI }, { "1715", CHI }, { "1920", CHI },
	/* Wyoming */
	{ "1307", DEN },
	/* US territories */
	{ "1787", "America/Puerto_Rico" }, { "1939", "America/Puerto_Rico" },
	{ "1340", "America/St_Thomas" },
	{ "1671", "Pacific/Guam" },
	{ "1670", "Pacific/Saipan" },
	{ "1684", "Pacific/Pago_Pago" },
	/* Canada: British Columbia (the east is Mountain) */
	{ "1604", "America/Vancouver" },
	{ "1236", "America/Vancouver America/Edmonton America/Dawson_Creek" },
	{ "1250", "America/Vancouver America/Edmonton America/Dawson_Creek" },
	{ "1257", "America/Vancouver America/Edmonton America/Dawson_Creek" },
	{ "1672", "America/Vancouver America/Edmonton America/Dawson_Creek" },
	{ "1778", "America/Vancouver America/Edmonton America/Dawson_Creek" },
	/* Alberta */
	{ "1368", "America/Edmonton" }, { "1403", "America/Edmonton" },
	{ "1587", "America/Edmonton" }, { "1780", "America/Edmonton" },
	{ "1825", "America/Edmonton" },
	/* Saskatchewan */
	{ "1306", "America/Regina" }, { "1474", "America/Regina" },
	{ "1639", "America/Regina" },
	/* Manitoba */
	{ "1204", "America/Winnipeg" }, { "1431", "America/Winnipeg" },
	{ "1584", "America/Winnipeg" },
	/* Ontario: the northwest is Central */
	{ "1226", "America/Toronto" }, { "1249", "America/Toronto" },
	{ "1289", "America/Toronto" }, { "1343", "America/Toronto" },
	{ "1365", "America/Toronto" }, { "1382", "America/Toronto" },
	{ "1416", "America/Toronto" }, { "1437", "America/Toronto" },
	{ "1519", "America/Toronto" }, { "1548", "America/Toronto" },
	{ "1613", "America/Toronto" }, { "1647", "America/Toronto" },
	{ "1683", "America/Toronto" }, { "1705", "America/Toronto" },
	{ "1742", "America/Toronto" }, { "1753", "America/Toronto" },
	{ "1905", "America/Toronto" }, { "1942", "America/Toronto" },
	{ "1807", "America/Toronto America/Winnipeg" },
	/* Quebec: the Magdalen Islands and Lower North Shore are Atlantic */
	{ "1263", "America/Toronto" }, { "1354", "America/Toronto" },
	{ "1438", "America/Toronto" }, { "1450", "America/Toronto" },
	{ "1468", "America/Toronto" }, { "1514", "America/Toronto" },
	{ "1579", "America/Toronto" }, { "1819", "America/Toronto" },
	{ "1873", "America/Toronto" },
	{ "1367", "America/Toronto America/Halifax America/Blanc-Sablon" },
	{ "1418", "America/Toronto America/Halifax America/Blanc-Sablon" },
	{ "1581", "America/Toronto America/Halifax America/Blanc-Sablon" },
	/* New Brunswick, Nova Scotia, Prince Edward Island */
	{ "1428", "America/Halifax" }, { "1506", "America/Halifax" },
	{ "1782", "America/Halifax" }, { "1902", "America/Halifax" },
	/* Newfoundland and Labrador */
	{ "1709", "America/St_Johns America/Goose_Bay" },
	{ "1879", "America/St_Johns America/Goose_Bay" },
	/* Yukon, Northwest Territories, Nunavut */

	{ "1867", "America/Whitehorse America/Edmonton America/Iqaluit "
	    "America/Rankin_Inlet America/Cambridge_Bay" },
	/* The Caribbean and Bermuda */
	{ "1242", "America/Nassau" },
	{ "1246", "America/Barbados" },
	{ "1264", "America/Anguilla" },
	{ "1268", "America/Antigua" },
	{ "1284", "America/Tortola" },
	{ "1345", "America/Cayman" },
	{ "1441", "Atlantic/Bermuda" },
	{ "1473", "America/Grenada" },
	{ "1649", "America/Grand_Turk" },
	{ "1658", "America/Jamaica" }, { "1876", "America/Jamaica" },
	{ "1664", "America/Montserrat" },
	{ "1721", "America/Lower_Princes" },
	{ "1758", "America/St_Lucia" },
	{ "1767", "America/Dominica" },
	{ "1784", "America/St_Vincent" },
	{ "1809", "America/Santo_Domingo" },
	{ "1829", "America/Santo_Domingo" },
	{ "1849", "America/Santo_Domingo" },
	{ "1868", "America/Port_of_Spain" },
	{ "1869", "America/St_Kitts" },
	/* The rest of the world, by calling code and region */
	{ "7", "Europe/Kaliningrad Europe/Moscow Europe/Samara "
	    "Asia/Yekaterinburg Asia/Omsk Asia/Novosibirsk Asia/Krasnoyarsk "
	    "Asia/Irkutsk Asia/Yakutsk Asia/Vladivostok Asia/Magadan "
	    "Asia/Kamchatka" },
	{ "76", "Asia/Almaty Asia/Aqtau" },
	{ "77", "Asia/Almaty Asia/Aqtau" },
	{ "20", "Africa/Cairo" },
	{ "211", "Africa/Juba" },
	{ "212", "Africa/Casablanca" },
	{ "213", "Africa/Algiers" },
	{ "216", "Africa/Tunis" },
	{ "218", "Africa/Tripoli" },
	{ "220", "Africa/Banjul" },
	{ "221", "Africa/Dakar" },
	{ "222", "Africa/Nouakchott" },
	{ "223", "Africa/Bamako" },
	{ "224", "Africa/Conakry" },
	{ "225", "Africa/Abidjan" },
	{ "226", "Africa/Ouagadougou" },
	{ "227", "Africa/Niamey" },
	{ "228", "Africa/Lome" },
	{ "229", "Africa/Porto-Novo" },
	{ "230", "Indian/Mauritius" },
	{ "231", "Africa/Monrovia" },
	{ "232", "Africa/Freetown" },
	{ "233", "Africa/Accra" },
	{ "234", "Africa/Lagos" },
	{ "235", "Africa/Ndjamena" },
	{ "236", "Africa/Bangui" },
	{ "237", "Africa/Douala" },
	{ "238", "Atlantic/Cape_Verde" },
	{ "239", "Africa/Sao_Tome" },
	{ "240", "Africa/Malabo" },
	{ "241", "Africa/Libreville" },
	{ "242", "Africa/Brazzaville" },
	{ "243", "Africa/Kinshasa Africa/Lubumbashi" },
	{ "244", "Africa/Luanda" },
	{ "245", "Africa/Bissau" },
	{ "246", "Indian/Chagos" },
	{ "247", "Atlantic/St_Helena" },
	{ "248", "Indian/Mahe" },
	{ "249", "Africa/Khartoum" },
	{ "250", "Africa/Kigali" },
	{ "251", "Africa/Addis_Ababa" },
	{ "252", "Africa/Mogadishu" },
	{ "253", "Africa/Djibouti" },
	{ "254", "Africa/Nairobi" },
	{ "255", "Africa/Dar_es_Salaam" },
	{ "256", "Africa/Kampala" },
	{ "257", "Africa/Bujumbura" },
	{ "258", "Africa/Maputo" },
	{ "260", "Africa/Lusaka" },
	{ "261", "Indian/Antananarivo" },
	{ "262", "Indian/Reunion Indian/Mayotte" },
	{ "262262", "Indian/Reunion" },
	{ "262269", "Indian/Mayotte" },
	{ "262639", "Indian/Mayotte" },
	{ "262692", "Indian/Reunion" },
	{ "262693", "Indian/Reunion" },
	{ "263", "Africa/Harare" },
	{ "264", "Africa/Windhoek" },
	{ "265", "Africa/Blantyre" },
	{ "266", "Africa/Maseru" },
	{ "267", "Africa/Gaborone" },
	{ "268", "Africa/Mbabane" },
	{ "269", "Indian/Comoro" },
	{ "27", "Africa/Johannesburg" },
	{ "290", "Atlantic/St_Helena" },
	{ "291", "Africa/Asmara" },
	{ "297", "America/Aruba" },
	{ "298", "Atlantic/Faroe" },
	{ "299", "America/Nuuk America/Danmarkshavn America/Scoresbysund "
	    "America/Thule" },
	{ "30", "Europe/Athens" },
	{ "31", "Europe/Amsterdam" },
	{ "32", "Europe/Brussels" },
	{ "33", "Europe/Paris" },
	{ "34", "Europe/Madrid Atlantic/Canary" },
	{ "34822", "Atlantic/Canary" },
	{ "34922", "Atlantic/Canary" },
	{ "34928", "Atlantic/Canary" },
	{ "34828", "Atlantic/Canary" },
	{ "350", "Europe/Gibraltar" },
	{ "351", "Europe/Lisbon Atlantic/Azores Atlantic/Madeira" },
	{ "351291", "Atlantic/Madeira" },
	{ "351292", "Atlantic/Azores" },
	{ "351295", "Atlantic/Azores" },
	{ "351296", "Atlantic/Azores" },
	{ "352", "Europe/Luxembourg" },
	{ "353", "Europe/Dublin" },
	{ "354", "Atlantic/Reykjavik" },
	{ "355", "Europe/Tirane" },
	{ "356", "Europe/Malta" },
	{ "357", "Asia/Nicosia" },
	{ "358", "Europe/Helsinki" },
	{ "359", "Europe/Sofia" },
	{ "36", "Europe/Budapest" },
	{ "370", "Europe/Vilnius" },
	{ "371", "Europe/Riga" },
	{ "372", "Europe/Tallinn" },
	{ "373", "Europe/Chisinau" },
	{ "374", "Asia/Yerevan" },
	{ "375", "Europe/Minsk" },
	{ "376", "Europe/Andorra" },
	{ "377", "Europe/Monaco" },
	{ "378", "Europe/San_Marino" },
	{ "380", "Europe/Kyiv" },
	{ "381", "Europe/Belgrade" },
	{ "382", "Europe/Podgorica" },
	{ "383", "Europe/Belgrade" },
	{ "385", "Europe/Zagreb" },
	{ "386", "Europe/Ljubljana" },
	{ "387", "Europe/Sarajevo" },
	{ "389", "Europe/Skopje" },
	{ "39", "Europe/Rome" },
	{ "40", "Europe/Bucharest" },
	{ "41", "Europe/Zurich" },
	{ "420", "Europe/Prague" },
	{ "421", "Europe/Bratislava" },
	{ "423", "Europe/Vaduz" },
	{ "43", "Europe/Vienna" },
	{ "44", "Europe/London" },
	{ "45", "Europe/Copenhagen" },
	{ "46", "Europe/Stockholm" },
	{ "47", "Europe/Oslo" },
	{ "48", "Europe/Warsaw" },
	{ "49", "Europe/Berlin" },
	{ "500", "Atlantic/Stanley" },
	{ "501", "America/Belize" },
	{ "502", "America/Guatemala" },
	{ "503", "America/El_Salvador" },
	{ "504", "America/Tegucigalpa" },
	{ "505", "America/Managua" },
	{ "506", "America/Costa_Rica" },
	{ "507", "America/Panama" },
	{ "508", "America/Miquelon" },
	{ "509", "America/Port-au-Prince" },
	{ "51", "America/Lima" },
	{ "52", "America/Mexico_City America/Cancun America/Merida "
	    "America/Monterrey America/Matamoros America/Chihuahua "
	    "America/Ciudad_Juarez America/Ojinaga America/Mazatlan "
	    "America/Hermosillo America/Bahia_Banderas America/Tijuana" },
	/*
	 * Mexico by area code (two digits for Mexico City, Guadalajara and
	 * Monterrey, three elsewhere; a mobile is numbered in its area,
	 * and the old mobile prefix, +52 1, is read through: see
	 * phonezone_lookup()). The first digit is a region: 2, 4, 5 and 7
	 * the centre and south, 3 the west, 8 the north-east, 9 the
	 * south-east, all on Central time (Monterrey and Merida keep it as
	 * Mexico City does since 2022); 6 the north-west, by state below.
	 */
	{ "522", MX }, { "523", MX }, { "524", MX }, { "525", MX },
	{ "527", MX }, { "529", MX }, { "528", "America/Monterrey" },
	{ "526", "America/Tijuana America/Hermosillo America/Mazatlan "
	    "America/Chihuahua America/Ciudad_Juarez America/Ojinaga "
	    "America/Monterrey" },
	/* Baja California: Pacific time, with the US's DST */
	{ "52664", "America/Tijuana" }, { "52686", "America/Tijuana" },
	{ "52646", "America/Tijuana" }, { "52665", "America/Tijuana" },
	{ "52661", "America/Tijuana" }, { "52616", "America/Tijuana" },
	{ "52658", "America/Tijuana" },
	/* Sonora: Mountain time, no DST */
	{ "52662", "America/Hermosillo" }, { "52631", "America/Hermosillo" },
	{ "52632", "America/Hermosillo" }, { "52633", "America/Hermosillo" },
	{ "52634", "America/Hermosillo" }, { "52637", "America/Hermosillo" },
	{ "52638", "America/Hermosillo" }, { "52641", "America/Hermosillo" },
	{ "52642", "America/Hermosillo" }, { "52643", "America/Hermosillo" },
	{ "52644", "America/Hermosillo" }, { "52645", "America/Hermosillo" },
	{ "52647", "America/Hermosillo" }, { "52622", "America/Hermosillo" },
	{ "52623", "America/Hermosillo" }, { "52653", "America/Hermosillo" },
	/* Sinaloa, Baja California Sur, Nayarit: Mountain time, no DST */
	{ "52669", "America/Mazatlan" }, { "52667", "America/Mazatlan" },
	{ "52668", "America/Mazatlan" }, { "52672", "America/Mazatlan" },
	{ "52673", "America/Mazatlan" }, { "52687", "America/Mazatlan" },
	{ "52694", "America/Mazatlan" }, { "52695", "America/Mazatlan" },
	{ "52696", "America/Mazatlan" }, { "52697", "America/Mazatlan" },
	{ "52698", "America/Mazatlan" }, { "52612", "America/Mazatlan" },
	{ "52613", "America/Mazatlan" }, { "52615", "America/Mazatlan" },
	{ "52624", "America/Mazatlan" }, { "52311", "America/Mazatlan" },
	{ "52319", "America/Mazatlan" }, { "52323", "America/Mazatlan" },
	{ "52324", "America/Mazatlan" }, { "52325", "America/Mazatlan" },
	{ "52327", "America/Mazatlan" }, { "52389", "America/Mazatlan" },
	/* Bahia de Banderas (Nayarit): Central time */
	{ "52329", "America/Bahia_Banderas" },
	/* Chihuahua: Central; Ciudad Juarez and Ojinaga keep the US's DST */
	{ "52614", "America/Chihuahua" }, { "52625", "America/Chihuahua" },
	{ "52627", "America/Chihuahua" }, { "52628", "America/Chihuahua" },
	{ "52629", "America/Chihuahua" }, { "52635", "America/Chihuahua" },
	{ "52636", "America/Chihuahua" }, { "52639", "America/Chihuahua" },
	{ "52648", "America/Chihuahua" }, { "52649", "America/Chihuahua" },
	{ "52656", "America/Ciudad_Juarez" }, { "52626", "America/Ojinaga" },
	/* Durango */
	{ "52618", "America/Monterrey" }, { "52671", "America/Monterrey" },
	{ "52674", "America/Monterrey" }, { "52675", "America/Monterrey" },
	{ "52676", "America/Monterrey" }, { "52677", "America/Monterrey" },
	/* The US border of Tamaulipas, Nuevo Leon, Coahuila: the US's DST */
	{ "52868", "America/Matamoros" }, { "52899", "America/Matamoros" },
	{ "52867", "America/Matamoros" }, { "52897", "America/Matamoros" },
	{ "52891", "America/Matamoros" }, { "52894", "America/Matamoros" },
	{ "52877", "America/Matamoros" }, { "52878", "America/Matamoros" },
	/* Yucatan and Campeche: Central time */
	{ "52999", "America/Merida" }, { "52981", "America/Merida" },
	{ "52982", "America/Merida" }, { "52938", "America/Merida" },
	{ "52969", "America/Merida" }, { "52985", "America/Merida" },
	{ "52986", "America/Merida" }, { "52988", "America/Merida" },
	{ "52991", "America/Merida" }, { "52996", "America/Merida" },
	/* Quintana Roo: Eastern time, no DST (997 is shared with Yucatan) */
	{ "52983", "America/Cancun" }, { "52984", "America/Cancun" },
	{ "52987", "America/Cancun" }, { "52998", "America/Cancun" },
	{ "52997", "America/Merida America/Cancun" },
	{ "53", "America/Havana" },
	{ "54", "America/Argentina/Buenos_Aires" },
	{ "55", "America/Noronha America/Sao_Paulo America/Bahia "
	    "America/Fortaleza America/Recife America/Belem America/Manaus "
	    "America/Cuiaba America/Campo_Grande America/Porto_Velho "
	    "America/Boa_Vista America/Rio_Branco America/Eirunepe" },
	/*
	 * Brazil by DDD, the two digits after +55 that mobiles keep too:
	 * Brasilia time (UTC-3) but for the west. Fernando de Noronha
	 * (UTC-2) is numbered in Pernambuco's 81.
	 */
	{ "5511", "America/Sao_Paulo" }, { "5512", "America/Sao_Paulo" },
	{ "5513", "America/Sao_Paulo" }, { "5514", "America/Sao_Paulo" },
	{ "5515", "America/Sao_Paulo" }, { "5516", "America/Sao_Paulo" },
	{ "5517", "America/Sao_Paulo" }, { "5518", "America/Sao_Paulo" },
	{ "5519", "America/Sao_Paulo" }, { "5521", "America/Sao_Paulo" },
	{ "5522", "America/Sao_Paulo" }, { "5524", "America/Sao_Paulo" },
	{ "5527", "America/Sao_Paulo" }, { "5528", "America/Sao_Paulo" },
	{ "5531", "America/Sao_Paulo" }, { "5532", "America/Sao_Paulo" },
	{ "5533", "America/Sao_Paulo" }, { "5534", "America/Sao_Paulo" },
	{ "5535", "America/Sao_Paulo" }, { "5537", "America/Sao_Paulo" },
	{ "5538", "America/Sao_Paulo" }, { "5541", "America/Sao_Paulo" },
	{ "5542", "America/Sao_Paulo" }, { "5543", "America/Sao_Paulo" },
	{ "5544", "America/Sao_Paulo" }, { "5545", "America/Sao_Paulo" },
	{ "5546", "America/Sao_Paulo" }, { "5547", "America/Sao_Paulo" },
	{ "5548", "America/Sao_Paulo" }, { "5549", "America/Sao_Paulo" },
	{ "5551", "America/Sao_Paulo" }, { "5553", "America/Sao_Paulo" },
	{ "5554", "America/Sao_Paulo" }, { "5555", "America/Sao_Paulo" },
	{ "5561", "America/Sao_Paulo" }, { "5562", "America/Sao_Paulo" },
	{ "5564", "America/Sao_Paulo" },
	{ "5563", "America/Araguaina" },
	{ "5565", "America/Cuiaba" }, { "5566", "America/Cuiaba" },
	{ "5567", "America/Campo_Grande" },
	{ "5568", "America/Rio_Branco" },
	{ "5569", "America/Porto_Velho" },
	{ "5571", "America/Bahia" }, { "5573", "America/Bahia" },
	{ "5574", "America/Bahia" }, { "5575", "America/Bahia" },
	{ "5577", "America/Bahia" },
	{ "5579", "America/Maceio" }, { "5582", "America/Maceio" },
	{ "5581", "America/Recife" }, { "5587", "America/Recife" },
	{ "55813619", "America/Noronha" },
	{ "5583", "America/Fortaleza" }, { "5584", "America/Fortaleza" },
	{ "5585", "America/Fortaleza" }, { "5586", "America/Fortaleza" },
	{ "5588", "America/Fortaleza" }, { "5589", "America/Fortaleza" },
	{ "5598", "America/Fortaleza" }, { "5599", "America/Fortaleza" },
	{ "5591", "America/Belem" }, { "5594", "America/Belem" },
	{ "5596", "America/Belem" },
	{ "5593", "America/Santarem" },
	{ "5592", "America/Manaus" },
	/* Amazonas's 97 runs west into Acre time (Eirunepe) */
	{ "5597", "America/Manaus America/Eirunepe" },
	{ "5595", "America/Boa_Vista" },
	{ "56", "America/Santiago America/Punta_Arenas Pacific/Easter" },
	{ "57", "America/Bogota" },
	{ "58", "America/Caracas" },
	{ "590", "America/Guadeloupe" },
	{ "591", "America/La_Paz" },
	{ "592", "America/Guyana" },
	{ "593", "America/Guayaquil Pacific/Galapagos" },
	{ "594", "America/Cayenne" },
	{ "595", "America/Asuncion" },
	{ "596", "America/Martinique" },
	{ "597", "America/Paramaribo" },
	{ "598", "America/Montevideo" },
	{ "599", "America/Curacao" },
	{ "60", "Asia/Kuala_Lumpur" },
	{ "61", "Australia/Sydney Australia/Lord_Howe Australia/Melbourne "
	    "Australia/Hobart Australia/Brisbane Australia/Adelaide "
	    "Australia/Broken_Hill Australia/Darwin Australia/Perth "
	    "Australia/Eucla" },
	{ "612", "Australia/Sydney Australia/Lord_Howe" },
	{ "613", "Australia/Melbourne Australia/Hobart" },
	{ "617", "Australia/Brisbane" },
	{ "618", "Australia/Adelaide Australia/Broken_Hill Australia/Darwin "
	    "Australia/Perth Australia/Eucla" },
	/*
	 * 08 8 is South Australia (Broken Hill, in New South Wales, keeps
	 * its time) and, from 08 89, the Northern Territory; 08 9 is
	 * Western Australia, with the Cocos (Keeling) and Christmas
	 * Islands in it (08 9162, 08 9164), each on a time of its own.
	 */
	{ "6188", "Australia/Adelaide" },
	{ "6188087", "Australia/Broken_Hill" },
	{ "6188088", "Australia/Broken_Hill" },
	{ "61889", "Australia/Darwin" },
	{ "6189", "Australia/Perth" },
	{ "6189039", "Australia/Eucla" },
	{ "6189162", "Indian/Cocos" },
	{ "6189164", "Indian/Christmas" },
	{ "62", "Asia/Jakarta Asia/Pontianak Asia/Makassar Asia/Jayapura" },
	{ "63", "Asia/Manila" },
	{ "64", "Pacific/Auckland Pacific/Chatham" },
	{ "643", "Pacific/Auckland" },
	{ "643305", "Pacific/Chatham" },
	{ "644", "Pacific/Auckland" },
	{ "646", "Pacific/Auckland" },
	{ "647", "Pacific/Auckland" },
	{ "649", "Pacific/Auckland" },
	{ "65", "Asia/Singapore" },
	{ "66", "Asia/Bangkok" },
	{ "670", "Asia/Dili" },
	{ "6723", "Pacific/Norfolk" },
	{ "673", "Asia/Brunei" },
	{ "674", "Pacific/Nauru" },
	{ "675", "Pacific/Port_Moresby Pacific/Bougainville" },
	{ "676", "Pacific/Tongatapu" },
	{ "677", "Pacific/Guadalcanal" },
	{ "678", "Pacific/Efate" },
	{ "679", "Pacific/Fiji" },
	{ "680", "Pacific/Palau" },
	{ "681", "Pacific/Wallis" },
	{ "682", "Pacific/Rarotonga" },
	{ "683", "Pacific/Niue" },
	{ "685", "Pacific/Apia" },
	{ "686", "Pacific/Tarawa Pacific/Kanton Pacific/Kiritimati" },
	{ "687", "Pacific/Noumea" },
	{ "688", "Pacific/Funafuti" },
	{ "689", "Pacific/Tahiti Pacific/Marquesas Pacific/Gambier" },
	{ "690", "Pacific/Fakaofo" },
	{ "691", "Pacific/Chuuk Pacific/Pohnpei Pacific/Kosrae" },
	{ "692", "Pacific/Majuro" },
	{ "81", "Asia/Tokyo" },
	{ "82", "Asia/Seoul" },
	{ "84", "Asia/Ho_Chi_Minh" },
	{ "850", "Asia/Pyongyang" },
	{ "852", "Asia/Hong_Kong" },
	{ "853", "Asia/Macau" },
	{ "855", "Asia/Phnom_Penh" },
	{ "856", "Asia/Vientiane" },
	{ "86", "Asia/Shanghai" },
	{ "880", "Asia/Dhaka" },
	{ "886", "Asia/Taipei" },
	{ "90", "Europe/Istanbul" },
	{ "91", "Asia/Kolkata" },
	{ "92", "Asia/Karachi" },
	{ "93", "Asia/Kabul" },
	{ "94", "Asia/Colombo" },
	{ "95", "Asia/Yangon" },
	{ "960", "Indian/Maldives" },
	{ "961", "Asia/Beirut" },
	{ "962", "Asia/Amman" },
	{ "963", "Asia/Damascus" },
	{ "964", "Asia/Baghdad" },
	{ "965", "Asia/Kuwait" },
	{ "966", "Asia/Riyadh" },
	{ "967", "Asia/Aden" },
	{ "968", "Asia/Muscat" },
	{ "970", "Asia/Hebron Asia/Gaza" },
	{ "971", "Asia/Dubai" },
	{ "972", "Asia/Jerusalem" },
	{ "973", "Asia/Bahrain" },
	{ "974", "Asia/Qatar" },
	{ "975", "Asia/Thimphu" },
	{ "976", "Asia/Ulaanbaatar Asia/Hovd" },
	{ "977", "Asia/Kathmandu" },
	{ "98", "Asia/Tehran" },
	{ "992", "Asia/Dushanbe" },
	{ "993", "Asia/Ashgabat" },
	{ "994", "Asia/Baku" },
	{ "995", "Asia/Tbilisi" },
	{ "996", "Asia/Bishkek" },
	{ "998", "Asia/Tashkent" },
};

const char *
phonezone_lookup(const char *number, size_t *matched)
{
	const char *digits = number && *number == '+' ? number + 1 : number;
	size_t n, best = 0, i, len;
	const char *zones = NULL;
	char mx[16];

	if (!digits)
		return NULL;
	n = strlen(digits);
	/*
	 * A Mexican mobile written the old way, +52 1 and ten digits: the
	 * area code follows the 1 (no area code begins with 1).
	 */
	if (n == 13 && strncmp(digits, "521", 3) == 0) {
		memcpy(mx, "52", 2);
		memcpy(mx + 2, digits + 3, 11);
		digits = mx;
		n = 12;
	}
	for (i = 0; i < sizeof table / sizeof table[0]; i++) {
		len = strlen(table[i].prefix);
		if (len > best && len <= n &&
		    memcmp(digits, table[i].prefix, len) == 0) {
			best = len;
			zones = table[i].zones;
		}
	}
	if (matched)
		*matched = best;
	return zones;
}

const char *
phonezone_entry(size_t i, const char **prefix)
{
	if (i >= sizeof table / sizeof table[0])
		return NULL;
	if (prefix)
		*prefix = table[i].prefix;
	return table[i].zones;
}
