// Cities and the country each lies in.
// Source: CIA World Factbook "Major urban areas" and the national statistical offices' lists
// of municipalities (as of 2025); the cities that host an organisation's headquarters
// (organisations.cpp) are included so that every headquarters city has its country.
// Names shared by two well-known places (Córdoba, Guadalajara, Valencia, Perth, ...) are left
// out so every question has one answer.
#include "data/facts/facts.h"

namespace rs::data::facts {

const std::vector<City>& cities() {
  static const std::vector<City> table = {
      {"Lyon", "France"}, {"Marseille", "France"}, {"Toulouse", "France"},
      {"Nice", "France"}, {"Bordeaux", "France"}, {"Paris", "France"},
      {"Munich", "Germany"}, {"Hamburg", "Germany"}, {"Frankfurt", "Germany"},
      {"Cologne", "Germany"}, {"Stuttgart", "Germany"}, {"Wolfsburg", "Germany"},
      {"Herzogenaurach", "Germany"},
      {"Milan", "Italy"}, {"Naples", "Italy"}, {"Florence", "Italy"}, {"Venice", "Italy"},
      {"Turin", "Italy"}, {"Maranello", "Italy"},
      {"Barcelona", "Spain"}, {"Seville", "Spain"}, {"Bilbao", "Spain"},
      {"Porto", "Portugal"},
      {"Rotterdam", "Netherlands"}, {"Utrecht", "Netherlands"}, {"Eindhoven", "Netherlands"},
      {"Amsterdam", "Netherlands"},
      {"Antwerp", "Belgium"}, {"Brussels", "Belgium"},
      {"Zurich", "Switzerland"}, {"Geneva", "Switzerland"}, {"Basel", "Switzerland"},
      {"Lausanne", "Switzerland"}, {"Vevey", "Switzerland"}, {"Nyon", "Switzerland"},
      {"Salzburg", "Austria"}, {"Vienna", "Austria"},
      {"Gothenburg", "Sweden"}, {"Stockholm", "Sweden"},
      {"Bergen", "Norway"},
      {"Aarhus", "Denmark"}, {"Billund", "Denmark"}, {"Copenhagen", "Denmark"},
      {"Espoo", "Finland"},
      {"Krakow", "Poland"}, {"Gdansk", "Poland"},
      {"Manchester", "United Kingdom"}, {"Liverpool", "United Kingdom"},
      {"Edinburgh", "United Kingdom"}, {"Glasgow", "United Kingdom"},
      {"London", "United Kingdom"},
      {"Osaka", "Japan"}, {"Kyoto", "Japan"}, {"Toyota City", "Japan"},
      {"Hiroshima", "Japan"}, {"Sapporo", "Japan"}, {"Yokohama", "Japan"}, {"Tokyo", "Japan"},
      {"Shanghai", "China"}, {"Shenzhen", "China"}, {"Hangzhou", "China"},
      {"Guangzhou", "China"},
      {"Busan", "South Korea"}, {"Suwon", "South Korea"}, {"Seoul", "South Korea"},
      {"Mumbai", "India"}, {"Bengaluru", "India"}, {"Chennai", "India"}, {"Kolkata", "India"},
      {"São Paulo", "Brazil"}, {"Rio de Janeiro", "Brazil"},
      {"São José dos Campos", "Brazil"},
      {"Rosario", "Argentina"},
      {"Monterrey", "Mexico"},
      {"Toronto", "Canada"}, {"Vancouver", "Canada"}, {"Montreal", "Canada"},
      {"New York City", "United States"}, {"Los Angeles", "United States"},
      {"Chicago", "United States"}, {"San Francisco", "United States"},
      {"Seattle", "United States"}, {"Redmond", "United States"},
      {"Cupertino", "United States"}, {"Mountain View", "United States"},
      {"Atlanta", "United States"}, {"Austin", "United States"},
      {"Washington, D.C.", "United States"},
      {"Sydney", "Australia"}, {"Melbourne", "Australia"}, {"Brisbane", "Australia"},
      {"Alexandria", "Egypt"},
      {"Casablanca", "Morocco"}, {"Marrakesh", "Morocco"},
      {"Mombasa", "Kenya"},
      {"Lagos", "Nigeria"},
      {"Istanbul", "Turkey"},
      {"Saint Petersburg", "Russia"},
      {"Cusco", "Peru"},
  };
  return table;
}

const City* find_city(const std::string& name) {
  for (const auto& c : cities())
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace rs::data::facts
